from django.urls import path

from .views import detail, intake, lists, portal, queue, work

app_name = "tickets"
urlpatterns = [
    path("intake/", intake.intake, name="intake"),
    path("intake/contact/", intake.add_contact, name="intake_add_contact"),
    path("intake/customer/", intake.add_customer, name="intake_add_customer"),
    path("intake/engineers/", intake.engineer_options, name="intake_engineers"),
    path("tickets/", lists.ticket_list, name="list"),
    path("tickets/filters/save/", lists.save_filter, name="save_filter"),
    path("tickets/filters/<int:pk>/delete/", lists.delete_filter, name="delete_filter"),
    path("sla/queue/", queue.sla_queue, name="queue"),
    path("work/", work.my_work, name="my_work"),
    path("portal/", portal.portal, name="portal"),
    path("portal/new/", portal.new_request, name="new_request"),
    path("tickets/<str:number>/", detail.detail, name="detail"),
    path("tickets/<str:number>/act/<slug:name>/", detail.act, name="act"),
    path("tickets/<str:number>/comment/", detail.comment, name="comment"),
    path("tickets/<str:number>/report/", detail.fault_report, name="fault_report"),
    path("tickets/<str:number>/change/decide/", detail.decide_change, name="decide_change"),
    path("tickets/<str:number>/approvals/<int:pk>/decide/", detail.decide_risk, name="decide_risk"),
    path(
        "tickets/<str:number>/approvals/<int:pk>/consent/",
        detail.record_consent,
        name="record_consent",
    ),
    path("attachments/<int:pk>/", detail.download, name="attachment"),
    path("attachments/<int:pk>/preview/", detail.preview, name="attachment_preview"),
    path("visits/<int:pk>/signature/", detail.visit_signature, name="visit_signature"),
]
