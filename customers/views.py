from django.shortcuts import render

from accounts.choices import Role
from accounts.decorators import role_required

from . import selectors
from .selectors import access_organisation


@role_required(Role.CUSTOMER)
def equipment(request):
    """The customer's organisation: its contracts, sites and equipment."""
    organisation = access_organisation(request.user)
    context = {
        "organisation": organisation,
        "contracts": selectors.contracts_for(organisation),
        "sites": selectors.sites_for(organisation),
        "equipment": selectors.equipment_for(organisation),
    }
    return render(request, "customers/equipment.html", context)
