"""
Filters for field work on the ticket page and the printed report:

    {% load field_work %}
    {{ ticket.site|map_url }}     a link that opens the phone's map app (Amap) at the site's address
    {{ file|file_kind }}          "image", "pdf" or "file": how an attachment is previewed
"""

from pathlib import PurePath
from urllib.parse import urlencode

from django import template

from ..uploads import PREVIEWABLE

register = template.Library()

# Amap's URI API: on a phone it opens the Amap app (callnative=1), elsewhere its web map.
AMAP_SEARCH = "https://uri.amap.com/search"


@register.filter
def map_url(site) -> str:
    """The map search for the site's address (with its city, which the address may leave out)."""
    if site is None or not site.address.strip():
        return ""
    address = site.address.strip()
    keyword = address if not site.city or site.city in address else f"{site.city}{address}"
    return f"{AMAP_SEARCH}?{urlencode({'keyword': keyword, 'src': 'servicedesk', 'callnative': 1})}"


@register.filter
def file_kind(attachment) -> str:
    if attachment.content_type not in PREVIEWABLE:
        return "file"
    return "pdf" if attachment.content_type == "application/pdf" else "image"


@register.filter
def file_extension(attachment) -> str:
    """The file's extension in capitals (LOG, DOCX), for the icon of a file with no preview."""
    return PurePath(attachment.original_name).suffix.lstrip(".").upper()[:4] or "FILE"
