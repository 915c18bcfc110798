"""
What every browser journey shares: how Chromium is started, the screens and languages a journey
runs on, screenshots, the accessibility check, keyboard moves and the ticket page's act buttons.
The fixtures that use these live in `conftest.py`.
"""

import os
import re
from pathlib import Path

from django.conf import settings
from django.utils import translation
from playwright.sync_api import Page, expect

ROOT = Path(settings.BASE_DIR)
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
README_SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# Debian's chromium: the project never downloads a browser (no `playwright install`).
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 360, "height": 740},
}
LANGUAGES = ("zh-hans", "en")
PASSWORD = "journey-pass-1"

# Impacts that fail a page; minor and moderate findings are printed only.
BLOCKING_IMPACTS = ("serious", "critical")


def t(language: str, message) -> str:
    """The message (a msgid, or a lazy label such as `Status.CLOSED.label`) as `language` shows it."""
    with translation.override(language):
        return translation.gettext(message) if isinstance(message, str) else str(message)


def screenshot_name(test: str, language: str, viewport: str, name: str) -> str:
    return f"{test}-{language}-{viewport}-{name}.png"


def save_screenshot(page: Page, path: Path) -> Path:
    """The visible screen only (not the full page): small files that show what the user sees."""
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    return path


# App defects already reported, allowed until fixed so that the journeys still prove the rest:
# (check, element) -> where the fault lies.
# Problems the app is known to have, each with where it stands; empty when there are none.
KNOWN_PROBLEMS: dict[tuple[str, str], str] = {}


def assert_labelled(page: Page) -> None:
    """
    Every visible form field has a label the browser ties to it. axe matches labels by their `for`
    text, so it misses a label whose id is repeated on the page: the browser gives it to the first.
    """
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea")]
            .filter(el => el.type !== "hidden" && el.checkVisibility())
            .filter(el => !el.labels.length && !el.getAttribute("aria-label")
                          && !el.getAttribute("aria-labelledby") && !el.title)
            .map(el => el.id ? "#" + el.id : `[name=${el.name}]`)"""
    )
    problems = [("unlabelled-field", target) for target in unlabelled]
    for problem in problems:
        print(f"{page.url}: {problem[0]} {problem[1]}: {KNOWN_PROBLEMS.get(problem, 'new')}")  # noqa: T201
    new = [problem for problem in problems if problem not in KNOWN_PROBLEMS]
    assert not new, f"form fields without a label on {page.url}: {new}"


def assert_accessible(page: Page) -> list[dict]:
    """
    Run axe-core on the page as it is now; fail on serious or critical violations, naming each
    rule, what it asks for and the elements that break it; and check that every field is labelled.
    Returns every axe violation found.
    """
    assert_labelled(page)
    # Evaluated through the DevTools protocol rather than as a <script> tag: the site's Content
    # Security Policy refuses inline scripts, and it must stay on so that the journeys test it.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                targets: v.nodes.map(n => n.target.join(" ")),
            }));
        }"""
    )
    report = "\n".join(
        f"  [{v['impact']}] {v['id']}: {v['help']}\n    " + "\n    ".join(v["targets"]) for v in violations
    )
    if violations:
        print(f"axe on {page.url}:\n{report}")  # noqa: T201 - shown with the failure, and with -s
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"accessibility violations on {page.url}:\n{report}"
    return violations


# Keyboard


def focused(page: Page, selector: str) -> bool:
    """Whether the element that has the focus matches the CSS selector."""
    return page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector)


def tab_to(page: Page, selector: str, *, limit: int = 25) -> int:
    """Press Tab until the focus is on `selector`, as a keyboard user would; returns the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if focused(page, selector):
            return presses
    raise AssertionError(f"{selector} never got the focus after {limit} presses of Tab")


# The ticket page's act buttons


def act_selector(act: str) -> str:
    return f"form[action$='/act/{act}/']"


def act_form(page: Page, act: str):
    return page.locator(f"main {act_selector(act)}")


def do_act(page: Page, act: str, **fields: str) -> None:
    """
    Perform one act from the ticket page: the likely next step is one large button, its form
    already open; the others fold under "More steps", where an act without fields is a plain
    button and an act with fields a <details> whose summary opens its form. `fields` are filled
    by name (a select takes the option's value or label). The page swaps the ticket in place.
    """
    form = act_form(page, act)
    expect(form).to_have_count(1)
    more = page.locator("main details.more-steps", has=page.locator(act_selector(act)))
    if more.count() and more.get_attribute("open") is None:
        more.locator("summary").first.click()
    details = page.locator("main details.act", has=page.locator(act_selector(act)))
    if details.count() and details.get_attribute("open") is None:
        details.locator("summary").click()
    if fields:
        assert_labelled(page)
        for name, value in fields.items():
            field = form.locator(f"[name={name}]")
            if field.evaluate("el => el.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)
    submit_in_place(page, form)


def submit_in_place(page: Page, form) -> None:
    """Send a form of the ticket page: htmx swaps the ticket's content in place, with no new page."""
    action = form.get_attribute("action")

    def sent(response) -> bool:
        return response.request.method == "POST" and response.url.endswith(action)

    with page.expect_response(sent):
        form.locator("button[type=submit]").click()
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def flash_text(page: Page) -> str:
    return " ".join(page.locator("main .flash").all_inner_texts())


def ticket_number_in(text: str) -> str:
    match = re.search(r"SD-\d{4}-\d{6}", text)
    assert match, f"no ticket number in {text!r}"
    return match.group(0)
