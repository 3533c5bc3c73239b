#!/usr/bin/env python3
"""Drives Strata's dashboard in real headless Chromium (Debian's chromium and chromium-driver,
through Selenium): waits until every section shows live data, checks the charts are drawn and
that the page fetched nothing from another origin or logged an error, clicks "approve" on a
candidate version, waits for the registry to show it approved, and saves a screenshot.

usage: dashboard-check.py BASE_URL API_KEY CANDIDATE_REFERENCE SCREENSHOT_PATH
Prints one JSON object with what it saw; exits non-zero (with the reason) on any failure.
"""
import json
import os
import sys
import time

os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium look for drivers online

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

SECTIONS = ["ingestion", "lake", "feature-store", "training", "registry-section", "evaluation-section",
            "serving", "quality-section", "drift-section", "alerts-section", "audit-section"]


def wait(driver, what, condition, timeout=180):
    # The limit only bounds a hang: on a machine busy with other work the page's refreshes may
    # take many times longer than usual. Past it, the failure says what was awaited and why.
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    page_errors = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".section-error, #error")]
    console = [e["message"] for e in driver.get_log("browser")]
    raise SystemExit(f"timed out waiting for {what}; page errors: {page_errors}; console: {console}")


def main():
    base, key, candidate, screenshot = sys.argv[1:5]
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    seen = {}
    try:
        driver.get(f"{base}/#key={key}")
        for section in SECTIONS:
            wait(driver, f"section {section} to show live data",
                 lambda: driver.find_element(By.ID, section).get_attribute("data-live") == "true")
        errors = driver.find_elements(By.CSS_SELECTOR, ".section-error")
        if errors:
            raise SystemExit("sections report errors: " + "; ".join(e.text for e in errors))
        # Two refreshes later the ingestion rate chart has points.
        wait(driver, "the ingestion chart", lambda: driver.find_elements(By.CSS_SELECTOR, "#rate-chart svg polyline"))
        seen["charts"] = len(driver.find_elements(By.CSS_SELECTOR, "svg.chart"))
        seen["accepted"] = driver.find_element(By.ID, "accepted").text
        seen["runs"] = len(driver.find_elements(By.CSS_SELECTOR, "#runs tr")) - 1
        seen["versions"] = len(driver.find_elements(By.CSS_SELECTOR, "#registry tr[data-ref]"))
        seen["alerts"] = [row.get_attribute("data-alert") for row in driver.find_elements(By.CSS_SELECTOR, "#alerts tr[data-alert]")]
        seen["audit_rows"] = len(driver.find_elements(By.CSS_SELECTOR, "#audit tr")) - 1
        seen["variants"] = len(driver.find_elements(By.CSS_SELECTOR, "#variants tr")) - 1
        seen["drift"] = driver.find_element(By.ID, "drift").text[:200]

        # The action: approve the candidate, as a person would.
        row = f'#registry tr[data-ref="{candidate}"]'
        wait(driver, f"{candidate} listed as a candidate",
             lambda: driver.find_elements(By.CSS_SELECTOR, f'{row}[data-stage="candidate"] button[data-action="approve"]'))
        driver.find_element(By.CSS_SELECTOR, f'{row} button[data-action="approve"]').click()
        wait(driver, "the registry to show the approval",
             lambda: driver.find_elements(By.CSS_SELECTOR, f'{row}[data-stage="approved"]'))
        seen["approve_result"] = driver.find_element(By.ID, "registry-result").text

        # Nothing came from another origin (no CDN), and the console stayed clean.
        resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        foreign = [r for r in resources if not r.startswith(base)]
        if foreign:
            raise SystemExit(f"the page fetched from elsewhere: {foreign}")
        seen["resources"] = len(resources)
        # /v1/evaluation answers 404 until an evaluation has run (the page says so); nothing else may fail.
        severe = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"
                  and not ("/v1/evaluation " in e["message"] and "status of 404" in e["message"])]
        if severe:
            raise SystemExit(f"browser console errors: {severe}")

        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1400, min(max(height, 1000), 8000))
        driver.execute_script("window.scrollTo(0, 0)")
        os.makedirs(os.path.dirname(os.path.abspath(screenshot)), exist_ok=True)
        driver.save_screenshot(screenshot)
        seen["screenshot"] = screenshot
        print(json.dumps(seen))
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
