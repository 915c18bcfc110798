from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("portal/equipment/", views.equipment, name="equipment"),
]
