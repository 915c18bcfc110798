"""The one filter of ticket lists, shared by the list page and the API."""

import datetime

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sla.models import Deadline

from .choices import OPEN_STATUSES, Kind, Level, Status, Urgency
from .models import SavedFilter, Ticket

# The status filter's one value that is not a status: every status of a ticket still being worked.
ALL_OPEN = "open"
STATUS_CHOICES = [(ALL_OPEN, gettext_lazy("All open")), *Status.choices]


class UnknownParameter(ValueError):
    """A query string names a parameter the list does not know, or repeats a single one."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadParameterValue(UnknownParameter):
    """A query parameter whose value the page cannot read (a word where a number belongs)."""


def whole_number(value) -> int | None:
    """`value` as an id-sized whole number, else None."""
    value = str(value or "").strip()
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def integer_parameter(params, name: str) -> int | None:
    """The whole number query parameter `name` gives; None when it is absent or empty."""
    value = params.get(name, "").strip()
    if not value:
        return None
    number = whole_number(value)
    if number is None:
        raise BadParameterValue(_("“%(name)s” must be a whole number.") % {"name": name})
    return number


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


def with_next_deadline(queryset):
    """
    Each ticket with `next_due_at` and `next_due_kind`: its open deadline that falls due first,
    paused ones left out (their clock is stopped); both None when it has none. Two correlated
    subqueries of the same statement, so a page of tickets costs no query per row.
    """
    deadlines = (
        Deadline.objects.open()
        .filter(
            content_type=ContentType.objects.get_for_model(Ticket),
            object_id=OuterRef("pk"),
            paused_at__isnull=True,
        )
        .order_by("due_at", "pk")
    )
    return queryset.annotate(
        next_due_at=Subquery(deadlines.values("due_at")[:1]),
        next_due_kind=Subquery(deadlines.values("kind")[:1]),
    )


class StatusFilter(django_filters.MultipleChoiceFilter):
    """Several statuses at once; `open` stands for every open status."""

    def filter(self, queryset, value):
        if not value:
            return queryset
        statuses = set(value)
        if ALL_OPEN in statuses:
            statuses.discard(ALL_OPEN)
            statuses.update(OPEN_STATUSES)
        return queryset.filter(status__in=sorted(statuses))


class TicketOrderingFilter(django_filters.OrderingFilter):
    """
    Sorts by a column either way, empty values (no level, nobody assigned, no deadline) last both
    ways, and the id breaking ties so that pages never repeat or skip a row.
    """

    # Each sort key of the query string and the fields it orders by, in turn.
    KEYS = {
        "created_at": ("created_at",),
        "updated_at": ("updated_at",),
        "number": ("number",),
        "title": ("title",),
        "level": ("level",),
        "urgency": ("urgency",),
        "status": ("status",),
        "organisation": ("organisation__name",),
        "team": ("team__name",),
        "assignee": ("assignee__display_name", "assignee__username"),
        "next_due": ("next_due_at",),
    }

    def __init__(self, *args, **kwargs):
        kwargs["fields"] = {key: key for key in self.KEYS}
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value):
        value = [term for term in value or () if term.lstrip("-")]  # "created_at," has an empty term
        if not value:
            return queryset
        if any(term.lstrip("-") == "next_due" for term in value):
            queryset = with_next_deadline(queryset)
        order = []
        for term in value:
            descending = term.startswith("-")
            for field in self.KEYS[term.lstrip("-")]:
                order.append(F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True))
        order.append("-pk" if value[0].startswith("-") else "pk")
        return queryset.order_by(*order)


class TicketFilter(StrictQueryMixin, django_filters.FilterSet):
    status = StatusFilter(
        choices=STATUS_CHOICES,
        help_text=gettext_lazy("Repeat for several statuses; “open” stands for every open status."),
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
        method="search",
        help_text=gettext_lazy(
            "Words in the number, title or description, the equipment's serial number, the "
            "organisation's name, or the contact's or caller's name or phone."
        ),
    )
    ordering = TicketOrderingFilter()

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
        # Every field is the ticket's own or one of its foreign keys: one row per ticket, no
        # duplicates and no DISTINCT.
        fields = (
            "number",
            "title",
            "description",
            "equipment__serial_number",
            "organisation__name",
            "contact__name",
            "contact__phone",
            "caller_name",
            "caller_phone",
        )
        match = Q()
        for field in fields:
            match |= Q(**{f"{field}__icontains": value})
        return queryset.filter(match)


# Saved filters: a staff member's named query strings of the ticket list.

MAX_SAVED_FILTERS = 50


class SavedFilterForm(forms.Form):
    """A name for the filter now shown, and its query string (the list's, without the page)."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=60, strip=True)
    query = forms.CharField(max_length=2000, required=False, strip=True, widget=forms.HiddenInput)

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.fields["name"].error_messages["required"] = _("Give the filter a name.")

    def clean_name(self):
        name = self.cleaned_data["name"]
        if SavedFilter.objects.filter(owner=self.owner, name=name).exists():
            raise forms.ValidationError(self.duplicate_message(name))
        if SavedFilter.objects.filter(owner=self.owner).count() >= MAX_SAVED_FILTERS:
            raise forms.ValidationError(
                _("You can keep %(count)d filters: delete one first.") % {"count": MAX_SAVED_FILTERS}
            )
        return name

    def clean_query(self):
        return readable_query(self.cleaned_data["query"])

    def save(self) -> SavedFilter | None:
        """
        Keep the filter under its name; None, with the error on the name, when the same person
        saved one of that name a moment ago (the unique constraint decides).
        """
        try:
            with transaction.atomic():
                return SavedFilter.objects.create(
                    owner=self.owner, name=self.cleaned_data["name"], query=self.cleaned_data["query"]
                )
        except IntegrityError:
            self.add_error("name", self.duplicate_message(self.cleaned_data["name"]))
            return None

    @staticmethod
    def duplicate_message(name: str) -> str:
        return _("You already have a filter named “%(name)s”: choose another name.") % {"name": name}


def readable_query(text: str) -> str:
    """
    The query string as the list reads it (without page or empty fields), or ValidationError
    when the list would refuse it.
    """
    query = query_without_page(text)
    try:
        TicketFilter.check_query(query)
    except UnknownParameter as error:
        raise forms.ValidationError(error.message) from None
    if not TicketFilter(query, queryset=Ticket.objects.none()).is_valid():
        raise forms.ValidationError(_("This filter cannot be read: change it and save it again."))
    return query.urlencode()


def query_without_page(text: str) -> QueryDict:
    """
    The QueryDict of a query string without its page (a saved filter starts on page 1) and
    without the empty fields a submitted filter form sends.
    """
    return meaningful(QueryDict(text.lstrip("?")))


def meaningful(params: QueryDict) -> QueryDict:
    """`params` without the page and without empty values: what the list shows, said shortly."""
    query = QueryDict(mutable=True)
    for key in params:
        if key == "page":
            continue
        values = [value for value in params.getlist(key) if value.strip()]
        if values:
            query.setlist(key, values)
    return query


def saved_filters_of(owner) -> list[SavedFilter]:
    return list(SavedFilter.objects.filter(owner=owner).order_by("name"))
