"""Accessibility checks with axe-core (vendored in vendor/axe.min.js).

axe is injected with page.evaluate(source) rather than page.add_script_tag(path=...):
add_script_tag inserts an inline <script>, which a Content-Security-Policy without
'unsafe-inline' blocks, while evaluate runs through the DevTools protocol and is not
subject to the page's CSP. So the check keeps working once the site sends a strict CSP.
"""

from functools import cache
from pathlib import Path

import pytest

AXE_PATH = Path(__file__).resolve().parent / "vendor" / "axe.min.js"

# WCAG 2.1 A and AA, plus axe's best practices.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
FAILING_IMPACTS = ("serious", "critical")

RUN_AXE = """
async ([tags]) => {
    const results = await window.axe.run(document, {
        runOnly: {type: "tag", values: tags},
        resultTypes: ["violations"],
    });
    return results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({
            target: n.target.join(" "),
            html: n.html,
            summary: n.failureSummary,
        })),
    }));
}
"""


@cache
def axe_source() -> str:
    return AXE_PATH.read_text(encoding="utf-8")


def inject_axe(page) -> None:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())


def format_violation(violation: dict, *, max_nodes: int = 5) -> str:
    lines = [
        f"- {violation['id']} ({violation['impact']}): {violation['help']}",
        f"  {violation['helpUrl']}",
    ]
    for node in violation["nodes"][:max_nodes]:
        lines.append(f"  * {node['target']}: {node['html'][:200]}")
        summary = " ".join((node["summary"] or "").split())
        if summary:
            lines.append(f"    {summary[:400]}")
    if len(violation["nodes"]) > max_nodes:
        lines.append(f"  ... and {len(violation['nodes']) - max_nodes} more elements")
    return "\n".join(lines)


def axe_check(page, *, allow: tuple[str, ...] | list[str] = (), tags=AXE_TAGS) -> list[dict]:
    """Run axe on the page as it is now; fail on serious or critical violations.

    `allow` lists axe rule ids to accept (say why next to the call). Returns every
    violation found (minor and moderate ones included) for tests that want more.
    """
    inject_axe(page)
    # A button just clicked or focused may be half-way through its colour transition: axe
    # would measure the contrast of a colour no one sees for long. Judge the end state.
    page.evaluate("() => document.getAnimations().forEach((animation) => animation.finish())")
    violations = page.evaluate(RUN_AXE, [list(tags)])
    failing = [
        v for v in violations if v["impact"] in FAILING_IMPACTS and v["id"] not in set(allow)
    ]
    if failing:
        report = "\n".join(format_violation(v) for v in failing)
        pytest.fail(
            f"axe found {len(failing)} serious or critical accessibility violation(s) "
            f"on {page.url} ({page.viewport_size}):\n{report}",
            pytrace=False,
        )
    return violations
