"""Forms of the ticket pages: the intake console, the portal request, and one small form per act."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.models import Team, User
from customers.choices import Billing, FaultArea
from customers.models import Contact, Equipment, Organisation, Site

from . import limits
from .choices import (
    CUSTOMER_KINDS,
    LEVEL_DESCRIPTIONS,
    Channel,
    Impact,
    Kind,
    Level,
    ProblemType,
    Risk,
    Urgency,
    WorkMethod,
)
from .services.intake import customer_request_problems


class LevelSelect(forms.RadioSelect):
    """Fault levels with the plain-language meaning of each under its name."""

    option_template_name = "tickets/widgets/level_option.html"

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["description"] = LEVEL_DESCRIPTIONS.get(value, "")
        return option


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if not data:
            return []
        single = super().clean
        return [single(item, initial) for item in (data if isinstance(data, list | tuple) else [data])]


class RequestFields(forms.Form):
    """What both the hotline and the portal ask about a request."""

    kind = forms.ChoiceField(
        label=_("Class"), choices=Kind.choices, initial=Kind.FAULT, widget=forms.RadioSelect
    )
    level = forms.TypedChoiceField(
        label=_("Fault level"),
        choices=Level.choices,
        coerce=int,
        required=False,
        widget=LevelSelect,
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.GENERAL)
    title = forms.CharField(label=_("Title"), max_length=limits.TITLE_MAX)
    description = forms.CharField(
        label=_("Description"),
        max_length=limits.TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    fault_area = forms.ChoiceField(
        label=_("The fault concerns"),
        choices=[("", _("Not known yet")), *FaultArea.choices],
        required=False,
        help_text=_("Faults only: without a service contract, the hardware or system warranty decides."),
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == Kind.FAULT and not data.get("level"):
            self.add_error("level", _("A fault needs a level, I to IV."))
        if data.get("kind") != Kind.FAULT:
            data["level"] = None
            data["fault_area"] = ""
        return data


class ComplaintTicketField(forms.CharField):
    """A ticket named by its number; `tickets` limits which may be named (others: not found)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.tickets = None

    def clean(self, value):
        number = super().clean(value).strip()
        if not number:
            return None
        ticket = self.tickets.filter(number__iexact=number).first() if self.tickets is not None else None
        if ticket is None:
            # The same answer for another organisation's ticket as for none at all.
            raise forms.ValidationError(
                _("There is no ticket %(number)s of this organisation."), params={"number": number}
            )
        return ticket


class IntakeForm(RequestFields):
    """The call as the agent records it; the caller's records are limited to their organisation."""

    organisation = forms.ModelChoiceField(queryset=Organisation.objects.all(), widget=forms.HiddenInput)
    contract_number = forms.CharField(max_length=40, required=False, widget=forms.HiddenInput)
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none(), required=False)
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False)
    equipment = forms.ModelChoiceField(
        label=_("Equipment"), queryset=Equipment.objects.none(), required=False
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    on_site_required = forms.BooleanField(label=_("On-site service needed"), required=False)
    team = forms.ModelChoiceField(
        label=_("Assign to team"), queryset=Team.objects.select_related("centre"), required=False
    )
    assignee = forms.ModelChoiceField(
        label=_("Engineer"),
        queryset=User.objects.filter(role=Role.ENGINEER, is_active=True).order_by("username"),
        required=False,
    )
    answer = forms.CharField(
        label=_("Answer given (consultations)"),
        max_length=limits.TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    about_ticket = ComplaintTicketField(
        label=_("Ticket complained about (complaints)"),
        help_text=_("Its number, e.g. SD-2026-000123."),
    )
    about_engineer = forms.ModelChoiceField(
        label=_("Engineer complained about (complaints)"),
        queryset=User.objects.filter(role__in=[Role.ENGINEER, Role.MANAGER], is_active=True).order_by(
            "username"
        ),
        required=False,
    )

    field_order = [
        "organisation",
        "contract_number",
        "contact",
        "site",
        "equipment",
        "title",
        "description",
        "kind",
        "level",
        "fault_area",
        "urgency",
        "on_site_required",
        "channel",
        "answer",
        "about_ticket",
        "about_engineer",
        "team",
        "assignee",
    ]

    def __init__(self, *args, organisation=None, **kwargs):
        super().__init__(*args, **kwargs)
        organisation = organisation or self._posted_organisation()
        # The caller is identified: the agent types what is wrong straight away.
        self.fields["title"].widget.attrs["autofocus"] = True
        if organisation is not None:
            self.fields["contact"].queryset = organisation.contacts.all()
            self.fields["site"].queryset = organisation.sites.all()
            self.fields["equipment"].queryset = Equipment.objects.filter(site__organisation=organisation)
            self.fields["about_ticket"].tickets = organisation.tickets.all()

    def clean(self):
        data = super().clean()
        if data.get("kind") != Kind.COMPLAINT:
            data["about_ticket"], data["about_engineer"] = None, None
        return data

    def _posted_organisation(self):
        try:
            return Organisation.objects.get(pk=int(self.data.get("organisation", "")))
        except (ValueError, Organisation.DoesNotExist):
            return None


class PortalRequestForm(RequestFields):
    """A customer's request: only their organisation's sites and equipment can be chosen."""

    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none())
    equipment = forms.ModelChoiceField(
        label=_("Equipment"),
        queryset=Equipment.objects.none(),
        required=False,
        help_text=_("Leave empty when the request is not about one device."),
    )
    files = MultipleFileField(label=_("Attachments"), required=False)
    about_ticket = ComplaintTicketField(
        label=_("Request complained about (complaints)"),
        help_text=_("Its number, e.g. SD-2026-000123."),
    )
    field_order = [
        "site",
        "equipment",
        "kind",
        "level",
        "fault_area",
        "urgency",
        "title",
        "description",
        "about_ticket",
        "files",
    ]

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["about_ticket"].tickets = organisation.tickets.all()
        self.organisation = organisation
        self.fields["site"].queryset = organisation.sites.all()
        self.fields["site"].required = organisation.sites.exists()
        self.fields["equipment"].queryset = Equipment.objects.filter(site__organisation=organisation)
        self.fields["kind"].choices = [
            (value, label) for value, label in Kind.choices if value in CUSTOMER_KINDS
        ]

    def clean(self):
        data = super().clean()
        # The API's rule too (`customer_request_problems`); a field already refused keeps its message.
        problems = customer_request_problems(
            self.organisation, kind=data.get("kind"), site=data.get("site"), equipment=data.get("equipment")
        )
        for field, message in problems.items():
            if field not in self.errors:
                self.add_error(field, message)
        if data.get("kind") != Kind.COMPLAINT:
            data["about_ticket"] = None
        return data


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), max_length=limits.COMMENT_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_internal = forms.BooleanField(label=_("Internal note (not shown to the customer)"), required=False)
    files = MultipleFileField(label=_("Attachments"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


# One form per act: its fields are the service's keyword arguments, plus the version read.


class ActForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


def _text(label, required=True, rows=2):
    return forms.CharField(
        label=label,
        required=required,
        max_length=limits.TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class NoteForm(ActForm):
    note = _text(_("Note"), required=False)


class RespondForm(ActForm):
    note = _text(_("How the customer was answered"))


class ReasonForm(ActForm):
    reason = _text(_("Reason"))


class PauseForm(ActForm):
    reason = _text(_("What the customer must do or give"))


class PartsForm(ActForm):
    note = _text(_("Part awaited"))


class WorkaroundForm(ActForm):
    workaround = _text(_("Workaround"), rows=3)


class AnswerForm(ActForm):
    answer = _text(_("Answer given"), rows=3)


class AnalyseForm(ActForm):
    problem_type = forms.ChoiceField(label=_("Problem type"), choices=ProblemType.choices)
    note = _text(_("Findings"))


class ResolveForm(ActForm):
    resolution = _text(_("Resolution"), rows=3)
    root_cause = _text(_("Root cause"), required=False)


class WorkForm(ActForm):
    minutes = forms.IntegerField(label=_("Time spent (minutes)"), min_value=1, max_value=24 * 60)
    method = forms.ChoiceField(label=_("Method"), choices=WorkMethod.choices, initial=WorkMethod.ON_SITE)
    note = _text(_("What was done"))


class DepartForm(ActForm):
    signed_off_by = forms.CharField(label=_("Signed off by (customer)"), max_length=100, required=False)
    note = _text(_("Note"), required=False)


class AssignForm(ActForm):
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.select_related("centre"), required=False
    )
    assignee = forms.ModelChoiceField(
        label=_("Engineer"),
        queryset=User.objects.filter(role__in=[Role.ENGINEER, Role.MANAGER], is_active=True).order_by(
            "username"
        ),
        required=False,
    )
    note = _text(_("Note"), required=False)


class ApprovalForm(ActForm):
    risk = forms.ChoiceField(label=_("Risky action"), choices=Risk.choices)
    plan = _text(_("What will be done and why"), rows=3)


class EmergencyPlanForm(ActForm):
    plan = _text(_("Emergency plan"), rows=5)
    files = MultipleFileField(label=_("Files (shown to the customer)"), required=False)


class BillingForm(ActForm):
    billing = forms.ChoiceField(label=_("Billing"), choices=Billing.choices)
    reason = _text(_("Reason"))


class ChangeForm(ActForm):
    effort_days = forms.DecimalField(
        label=_("Effort (working days)"), min_value=0.1, max_digits=6, decimal_places=1
    )
    impact = forms.ChoiceField(label=_("Impact"), choices=Impact.choices)


ACT_FORMS = {
    "answer": AnswerForm,
    "assign": AssignForm,
    "accept": ActForm,
    "respond": RespondForm,
    "start_travel": ActForm,
    "arrive": ActForm,
    "depart": DepartForm,
    "log_work": WorkForm,
    "pause": PauseForm,
    "resume": NoteForm,
    "wait_for_parts": PartsForm,
    "give_workaround": WorkaroundForm,
    "deliver_emergency_plan": EmergencyPlanForm,
    "analyse": AnalyseForm,
    "request_approval": ApprovalForm,
    "submit_change": ChangeForm,
    "resolve": ResolveForm,
    "confirm": NoteForm,
    "reopen": ReasonForm,
    "cancel": ReasonForm,
    "escalate": ReasonForm,
    "set_billing": BillingForm,
}


class DecisionForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Approve")), ("0", _("Refuse"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    reason = _text(_("Reason"), required=False)


class ConsentForm(forms.Form):
    given_by = forms.CharField(label=_("Consent given by (customer's representative)"), max_length=100)
    note = _text(_("Note"), required=False)


class FaultReportForm(forms.Form):
    fault_class = forms.CharField(label=_("Fault class"), max_length=100)
    cause = _text(_("Cause"), rows=3)
    method = _text(_("Method used"), rows=3)
    loss = _text(_("Loss"), rows=2)
