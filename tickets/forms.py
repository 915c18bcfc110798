"""Forms of the ticket pages: the intake console, the portal request, and one small form per act."""

from django import forms
from django.core.validators import MaxLengthValidator
from django.db.models import Case, IntegerField, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.models import Team, User
from customers.choices import Billing, FaultArea
from customers.models import Contact, Equipment, Organisation, Site

from . import limits, selectors
from .choices import (
    CUSTOMER_KINDS,
    LEVEL_DESCRIPTIONS,
    Channel,
    Impact,
    Kind,
    Level,
    ProblemType,
    Risk,
    Score,
    Urgency,
    WorkMethod,
)
from .services.intake import customer_request_problems
from .uploads import ACCEPTED_FILES, SIGNATURE_FIELD_MAX, UploadRefused, signature_png


class LevelSelect(forms.RadioSelect):
    """Fault levels with the plain-language meaning of each under its name."""

    option_template_name = "tickets/widgets/level_option.html"

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["description"] = LEVEL_DESCRIPTIONS.get(value, "")
        return option


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotoFileInput(MultipleFileInput):
    """Several files at once and, beside them, a button that opens a phone's camera."""

    template_name = "tickets/widgets/photo_input.html"

    def __init__(self, attrs=None):
        super().__init__({"accept": ACCEPTED_FILES, **(attrs or {})})


class SignatureInput(forms.Widget):
    """
    A pad the customer signs on with a finger or the mouse (drawn by the page's script), sent as a
    PNG data URL in a hidden field. Without the script the pad stays hidden: the typed name is the
    sign-off.
    """

    template_name = "tickets/widgets/signature.html"
    use_fieldset = True


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

    # What a fault without a level is told (the portal words it for customers).
    level_missing = _("A fault needs a level, I to IV.")

    def clean(self):
        data = super().clean()
        if data.get("kind") == Kind.FAULT and not data.get("level"):
            self.add_error("level", self.level_missing)
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


class EngineerChoiceField(forms.ModelChoiceField):
    """Each engineer with their open tickets and whether they are on duty: "王工 · 3 open · on duty"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_duty = set()

    def label_from_instance(self, person):
        values = {"name": person, "count": getattr(person, "open_count", 0)}
        if person.pk in self.on_duty:
            return _("%(name)s · %(count)s open · on duty") % values
        return _("%(name)s · %(count)s open") % values


class FieldColumn:
    """Some of a form's fields, rendered by `form_fields.html` as a form of their own."""

    hidden_fields = ()
    non_field_errors = ()

    def __init__(self, fields):
        self.fields = fields

    def visible_fields(self):
        return self.fields


class IntakeForm(RequestFields):
    """The call as the agent records it; the caller's records are limited to their organisation."""

    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(is_placeholder=False),
        widget=forms.HiddenInput,
        required=False,
    )
    # The caller is not on file: the call goes to the customer to be confirmed.
    to_be_confirmed = forms.BooleanField(widget=forms.HiddenInput, required=False)
    caller_name = forms.CharField(label=_("Caller's name"), max_length=100, required=False)
    caller_phone = forms.CharField(label=_("Caller's phone"), max_length=32, required=False)
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
    assignee = EngineerChoiceField(
        label=_("Engineer"), queryset=selectors.engineers_with_load(), required=False
    )
    leave_with_team = forms.BooleanField(label=_("Leave it with the team, nobody named yet"), required=False)
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
        "to_be_confirmed",
        "contract_number",
        "caller_name",
        "caller_phone",
        "contact",
        "site",
        "equipment",
        "title",
        "description",
        "kind",
        "level",
        "fault_area",
        "urgency",
        "channel",
        "on_site_required",
        "answer",
        "about_ticket",
        "about_engineer",
        "team",
        "assignee",
        "leave_with_team",
    ]

    def __init__(self, *args, organisation=None, centre=None, team=None, on_duty=(), **kwargs):
        super().__init__(*args, **kwargs)
        organisation = organisation or self._posted(
            Organisation.objects.filter(is_placeholder=False), "organisation"
        )
        # The caller is identified: the agent types what is wrong straight away.
        self.fields["title"].widget.attrs["autofocus"] = True
        # The entitlement card beside the form already says what the warranties decide.
        self.fields["fault_area"].help_text = ""
        self.fields["description"].widget.attrs["rows"] = 2
        if not self._to_be_confirmed():
            del self.fields["caller_name"], self.fields["caller_phone"]
        if organisation is not None:
            self.fields["contact"].queryset = organisation.contacts.all()
            self.fields["site"].queryset = organisation.sites.all()
            # The organisation is named above the form: its sites by their own names.
            self.fields["site"].label_from_instance = lambda site: site.name
            self.fields["equipment"].queryset = Equipment.objects.filter(site__organisation=organisation)
            self.fields["about_ticket"].tickets = organisation.tickets.all()
        else:
            for name in ("contact", "site", "equipment"):
                del self.fields[name]
        site = self._posted(Site.objects.select_related("centre"), "site")
        centre = centre or (site.centre if site else None)
        if centre is not None:
            # The site's centre's teams first, then the others.
            first = Case(When(centre=centre, then=0), default=1, output_field=IntegerField())
            self.fields["team"].queryset = Team.objects.select_related("centre").order_by(
                first, "centre__name", "tier", "name"
            )
        # The engineer list follows the chosen team (the posted one when the form comes back).
        team = team or self._posted(Team.objects.all(), "team")
        if team is not None:
            self.fields["assignee"].queryset = selectors.engineers_with_load(team)
        self.fields["assignee"].on_duty = {person.pk for person in on_duty}
        # Choosing a team reloads the engineer list with its members (htmx; without it, all engineers).
        self.fields["team"].widget.attrs.update(
            {
                "hx-get": reverse("tickets:intake_engineers"),
                "hx-target": "#id_assignee",
                "hx-swap": "outerHTML",
                "hx-trigger": "change",
            }
        )

    # The two columns of the call form: what is wrong, and who called and who takes it.
    WHAT = ("title", "description", "kind", "level", "fault_area", "answer", "about_ticket", "about_engineer")

    @property
    def what_column(self):
        return FieldColumn([field for field in self.visible_fields() if field.name in self.WHAT])

    @property
    def who_column(self):
        return FieldColumn([field for field in self.visible_fields() if field.name not in self.WHAT])

    def _to_be_confirmed(self) -> bool:
        if self.is_bound:
            # Read as the checkbox field reads it, so that the fields and the check always agree.
            return forms.BooleanField(required=False).to_python(self.data.get("to_be_confirmed"))
        return bool(self.initial.get("to_be_confirmed"))

    def _posted(self, queryset, name):
        if not self.is_bound:
            return None
        try:
            return queryset.filter(pk=int(self.data.get(name, ""))).first()
        except ValueError:
            return None

    def clean(self):
        data = super().clean()
        if data.get("kind") != Kind.COMPLAINT:
            data["about_ticket"], data["about_engineer"] = None, None
        if data.get("kind") != Kind.CONSULTATION:
            data["answer"] = ""
        if data.get("to_be_confirmed"):
            data["organisation"] = None
            if not (data.get("caller_name", "").strip() or data.get("caller_phone", "").strip()):
                self.add_error(
                    "caller_name", _("Write down the caller's name or phone, so that the desk can call back.")
                )
        elif data.get("organisation") is None and "organisation" not in self.errors:
            self.add_error(None, _("Find the caller first: the call needs its customer."))
        # A call is never left with the clock running and nobody named, unless the agent says so.
        answering = self.data.get("action") == "answer"
        if not answering and not data.get("assignee") and not data.get("leave_with_team"):
            self.add_error(
                "leave_with_team",
                _("Name the engineer, or tick “Leave it with the team, nobody named yet”."),
            )
        return data


class NewContactForm(forms.Form):
    """The caller, added to an organisation found on the console."""

    organisation = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Organisation.objects.filter(is_placeholder=False),
        error_messages={"invalid_choice": _("There is no such customer: find the caller again.")},
    )
    name = forms.CharField(label=_("Caller's name"), max_length=100)
    phone = forms.CharField(label=_("Caller's phone"), max_length=32, required=False)


class NewCustomerForm(forms.Form):
    """A new customer on the line: its name and the caller, its first contact."""

    organisation_name = forms.CharField(label=_("Customer (organisation) name"), max_length=200)
    contact_name = forms.CharField(label=_("Caller's name"), max_length=100)
    phone = forms.CharField(label=_("Caller's phone"), max_length=32, required=False)


class EquipmentSelect(forms.Select):
    """Devices named with their site (`data-site`): the page shows only the chosen site's."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-site"] = instance.site_id
        return option


class PortalRequestForm(RequestFields):
    """A customer's request: only their organisation's sites and equipment can be chosen."""

    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none())
    equipment = forms.ModelChoiceField(
        label=_("Equipment"),
        queryset=Equipment.objects.none(),
        required=False,
        widget=EquipmentSelect,
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
    level_missing = _("A fault needs a level: choose one.")
    # Each refusal says what to do; Django's "This field is required." is never shown here.
    refusals = {
        "site": {
            "required": _("Choose the site of the request."),
            "invalid_choice": _("Choose one of your organisation's sites."),
        },
        "equipment": {"invalid_choice": _("Choose one of your organisation's devices, or none.")},
        "kind": {
            "required": _("Choose the class of the request."),
            "invalid_choice": _("Choose the class of the request."),
        },
        "level": {"invalid_choice": _("A fault needs a level: choose one.")},
        "urgency": {
            "required": _("Choose the urgency."),
            "invalid_choice": _("Choose the urgency."),
        },
        "fault_area": {"invalid_choice": _("Choose whether the fault concerns the hardware or the system.")},
        "title": {
            "required": _("Give the request a short title."),
            "max_length": _("The title may have at most %(limit_value)d characters; it has %(show_value)d."),
        },
        "description": {
            "max_length": _(
                "The description may have at most %(limit_value)d characters; it has %(show_value)d."
            )
        },
        "about_ticket": {"max_length": _("A request number has at most %(limit_value)d characters.")},
    }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["about_ticket"].tickets = organisation.tickets.all()
        self.organisation = organisation
        self.fields["site"].queryset = organisation.sites.order_by("name")
        self.fields["site"].label_from_instance = lambda site: site.name
        self.fields["site"].required = organisation.sites.exists()
        self.fields["equipment"].queryset = Equipment.objects.filter(
            site__organisation=organisation
        ).order_by("site__name", "serial_number")
        # A change request is not offered, but one sent is told to call the hotline (`clean`).
        self.fields["kind"].choices = Kind.choices
        self.fields["kind"].widget.choices = [
            (value, label) for value, label in Kind.choices if value in CUSTOMER_KINDS
        ]
        for name, refusals in self.refusals.items():
            self.fields[name].error_messages.update(refusals)
        # A too-long text is refused by the field's validator, whose message is not an error_message.
        for name in ("title", "description", "about_ticket"):
            field = self.fields[name]
            field.validators = [
                MaxLengthValidator(field.max_length, message=self.refusals[name]["max_length"])
                if isinstance(validator, MaxLengthValidator)
                else validator
                for validator in field.validators
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
    files = MultipleFileField(label=_("Attachments"), required=False, widget=PhotoFileInput)
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
    signature = forms.CharField(
        label=_("Customer's signature"), required=False, max_length=SIGNATURE_FIELD_MAX, widget=SignatureInput
    )
    note = _text(_("Note"), required=False)

    def clean_signature(self) -> bytes:
        """The drawn signature as PNG bytes (empty when nothing was drawn)."""
        try:
            return signature_png(self.cleaned_data["signature"])
        except UploadRefused as refused:
            raise forms.ValidationError(refused.message) from None


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
    files = MultipleFileField(label=_("Files (shown to the customer)"), required=False, widget=PhotoFileInput)


class BillingForm(ActForm):
    billing = forms.ChoiceField(label=_("Billing"), choices=Billing.choices)
    reason = _text(_("Reason"))


class ChangeForm(ActForm):
    effort_days = forms.DecimalField(
        label=_("Effort (working days)"), min_value=0.1, max_digits=6, decimal_places=1
    )
    impact = forms.ChoiceField(label=_("Impact"), choices=Impact.choices)


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, contact):
        return f"{contact.name} · {contact.organisation}"


class IdentifyCustomerForm(ActForm):
    """The real customer of a call logged as "customer to be confirmed"."""

    organisation = forms.ModelChoiceField(
        label=_("Customer"), queryset=Organisation.objects.filter(is_placeholder=False)
    )
    contact = ContactChoiceField(
        label=_("Contact (the caller)"),
        queryset=Contact.objects.filter(organisation__is_placeholder=False).select_related("organisation"),
        required=False,
    )
    serial_number = forms.CharField(label=_("Serial number of the equipment"), max_length=64, required=False)


class RatingSelect(forms.RadioSelect):
    """The score as big buttons, each with its number before its words (5 Very satisfied … 0 N/A)."""

    option_template_name = "tickets/widgets/rating_option.html"


class ConfirmForm(ActForm):
    """Confirming asks how the service was: required of a customer, optional for the desk (`confirm` says)."""

    score = forms.TypedChoiceField(
        label=_("How was the service?"),
        choices=Score.choices,
        coerce=int,
        empty_value=None,
        required=False,
        widget=RatingSelect,
        error_messages={"invalid_choice": _("Choose a score from 5 to 0.")},
    )
    comment = _text(_("Comment (optional)"), required=False)


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
    "confirm": ConfirmForm,
    "reopen": ReasonForm,
    "cancel": ReasonForm,
    "escalate": ReasonForm,
    "set_billing": BillingForm,
    "identify_customer": IdentifyCustomerForm,
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
