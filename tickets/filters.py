"""The one filter of ticket lists, shared by the list page and the API."""

import datetime

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sla.models import Deadline

from .choices import Kind, Level, Status, Urgency
from .models import Ticket


class UnknownParameter(ValueError):
    """A query string names a parameter the list does not know, or repeats a single one."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadParameterValue(UnknownParameter):
    """A query parameter whose value the page cannot read (a word where a number belongs)."""


def integer_parameter(params, name: str) -> int | None:
    """The whole number query parameter `name` gives; None when it is absent or empty."""
    value = params.get(name, "").strip()
    if not value:
        return None
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise BadParameterValue(_("“%(name)s” must be a whole number.") % {"name": name})
    return int(value)


def check_parameters(params, *, known, repeatable=()) -> None:
    """
    Raise UnknownParameter unless every key of `params` (a QueryDict) is in `known`, and only
    the `repeatable` ones are given more than once.
    """
    unknown = sorted(key for key in params if key not in known)
    if unknown:
        raise UnknownParameter(_("Unknown parameter: %(names)s.") % {"names": ", ".join(unknown)})
    repeated = sorted(key for key in params if key not in repeatable and len(params.getlist(key)) > 1)
    if repeated:
        raise UnknownParameter(
            _("Give this parameter only once: %(names)s.") % {"names": ", ".join(repeated)}
        )


class StrictQueryMixin:
    """
    Refuse query strings the filter would silently ignore: a misspelt filter or an ORM lookup
    (`organisation__name`) would otherwise return the unfiltered list as if it were the answer.
    """

    @classmethod
    def check_query(cls, params, *, also=()) -> None:
        """
        Every key is a filter or one of `also` (pagination, format); only multiple-choice filters
        repeat. Filters whose widget reads suffixed keys (range filters) need them in `also`.
        """
        repeatable = {
            name
            for name, value in cls.base_filters.items()
            if isinstance(value, django_filters.MultipleChoiceFilter)
        }
        check_parameters(params, known={*cls.base_filters, *also}, repeatable=repeatable)


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """
    An ISO 8601 moment, turned to UTC here: any offset Python reads (up to ±23:59) is then one
    the database takes, and a moment beyond the calendar's ends is a clear error, not a 500.
    """

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError(_("Enter a date between the years 1 and 9999.")) from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class IdFilter(django_filters.NumberFilter):
    """A foreign key by its id: whole numbers only."""

    field_class = forms.IntegerField


class TicketFilter(StrictQueryMixin, django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, help_text=gettext_lazy("Repeat for several statuses.")
    )
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    level = django_filters.TypedChoiceFilter(choices=Level.choices, coerce=int)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    organisation = IdFilter(field_name="organisation")
    site = IdFilter(field_name="site")
    serial_number = django_filters.CharFilter(field_name="equipment__serial_number", lookup_expr="iexact")
    assignee = IdFilter(field_name="assignee")
    team = IdFilter(field_name="team")
    centre = IdFilter(field_name="centre")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lte")
    due_after = UtcDateTimeFilter(
        method="due_between", help_text=gettext_lazy("With an open deadline due at or after this time.")
    )
    due_before = UtcDateTimeFilter(
        method="due_between", help_text=gettext_lazy("With an open deadline due at or before this time.")
    )
    q = django_filters.CharFilter(
        method="search", help_text=gettext_lazy("Words in the number, title or description.")
    )
    ordering = django_filters.OrderingFilter(
        fields=["created_at", "updated_at", "level", "urgency", "status", "number"]
    )

    class Meta:
        model = Ticket
        fields = []

    def due_between(self, queryset, name, value):
        """Tickets with one open deadline inside the range (both ends, when both are given)."""
        after, before = self.form.cleaned_data.get("due_after"), self.form.cleaned_data.get("due_before")
        if name == "due_before" and after is not None:
            return queryset  # done with due_after
        window = {"due_at__gte": after} if after is not None else {}
        if before is not None:
            window["due_at__lte"] = before
        deadlines = Deadline.objects.open().filter(
            content_type=ContentType.objects.get_for_model(Ticket), object_id=OuterRef("pk"), **window
        )
        return queryset.filter(Exists(deadlines))

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value) | Q(title__icontains=value) | Q(description__icontains=value)
        )
