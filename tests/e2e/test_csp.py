"""The Content-Security-Policy in a real browser: the page's own scripts run, injected inline
code does not, and the violation reaches the tests (which is how every other browser test
asserts that its pages work under the policy: tests/e2e/conftest.py)."""

from playwright.sync_api import Page, expect

from tests.e2e.conftest import CSP_VIOLATIONS, Server, log_in


def test_injected_inline_code_is_blocked_and_reported(page: Page, server: Server) -> None:
    log_in(page, server)
    response = page.goto(f"{server.url}/designer/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.evaluate("() => typeof htmx === 'object' && htmx.config.allowEval") is False
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
            const div = document.createElement("div");
            div.setAttribute("onclick", "window.injected = true");
            document.body.append(div);
            div.click();
        }"""
    )
    assert page.evaluate("() => window.injected") is None
    page.wait_for_function("() => true")  # a round trip, so the reports have arrived
    assert any("script-src" in violation and "inline" in violation for violation in CSP_VIOLATIONS)
    CSP_VIOLATIONS.clear()  # seen, and expected: the test's own injection
