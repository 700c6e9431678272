"""A headless Chromium for the UI tests (Selenium + Debian's chromium and chromium-driver).

`Browser` wraps one WebDriver: bounded explicit waits on CSS selectors, the browser console log (read and
cleared with `console_problems()`; the tests fail on SEVERE entries), and screenshots into
`Tests/e2e/.artifacts/ui/` (gitignored).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from harness import E2E_DIR

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
ARTIFACTS = E2E_DIR / ".artifacts" / "ui"
WAIT = 15.0  # seconds any one UI step may take (a tool call, a connect, a page load)


def browser_missing() -> str | None:
    """None when Chromium, chromedriver and Selenium are all here, else why the UI tests are skipped."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            return f"{path} is missing: install the Debian packages chromium and chromium-driver (scripts/setup)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed in this Python (scripts/setup installs Tests/e2e/requirements.txt)"
    return None


class Browser:
    """One headless Chromium window, 1280x800."""

    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=1280,800", "--no-first-run", "--disable-extensions", "--hide-scrollbars"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(WAIT)
        # the viewport itself 1280x800 (--window-size counts the window, not the page)
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}
        )

    def quit(self) -> None:
        self.driver.quit()

    def get(self, url: str) -> None:
        self.driver.get(url)

    def wait(self, condition: Any, timeout: float = WAIT, message: str = "") -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(condition, message)

    def find(self, css: str, timeout: float = WAIT) -> Any:
        """The first visible element matching `css`, waiting for it."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        return self.wait(ec.visibility_of_element_located((By.CSS_SELECTOR, css)), timeout, f"no visible {css}")

    def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text_of(self, css: str, contains: str, timeout: float = WAIT) -> str:
        """Waits until an element matching `css` shows text containing `contains`; returns that text."""
        from selenium.webdriver.common.by import By

        def found(driver: Any) -> str | bool:
            for e in driver.find_elements(By.CSS_SELECTOR, css):
                try:
                    if contains in e.text:
                        return e.text
                except Exception:  # noqa: BLE001 - replaced while we read it; poll again
                    pass
            return False

        try:
            return self.wait(found, timeout)
        except Exception as e:
            shown = [x.text[:300] for x in self.all(css)]
            raise AssertionError(f"{css} never showed {contains!r} within {timeout}s; it shows {shown}") from e

    def click(self, css: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        self.wait(ec.element_to_be_clickable((By.CSS_SELECTOR, css)), WAIT, f"{css} not clickable").click()

    def type(self, css: str, text: str) -> None:
        e = self.find(css)
        e.clear()
        e.send_keys(text)

    def select(self, css: str, value: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.find(css)).select_by_value(value)

    def console_problems(self) -> list[dict[str, Any]]:
        """The SEVERE console entries since the last call (the log is cleared by reading it)."""
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path


def publish(screenshot: Path, target: Path) -> None:
    """Copies a screenshot the tests took to where the docs show it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(screenshot, target)
