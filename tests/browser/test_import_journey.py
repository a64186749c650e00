"""An administrator imports the association's spreadsheet (issue 21): uploads a small XLSX
made here, corrects the column the panel did not recognise, sees the refused row with its
reason, downloads the report, confirms (the question names the file and the count), and the
page says what was added. Screenshots in Kazakh at 1280 and 390 px."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import tr
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_auth_journeys import log_in, wait_path
from tests.import_files import xlsx

pytestmark = pytest.mark.browser
PASSWORDS = {u: p for u, _r, _n, p in DEMO_ACCOUNTS}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["Тегі", "Аты", "Байланыс арнасы 7", "Электрондық пошта", "Жұмыс орны", "Лауазымы",
          "Мүшелікке қабылданған күні"]  # fmt: skip
ROWS = [
    ["Браузеров", "Әлібек", "8 701 555 10 01", "browser-1@mail.kz", "Egemen", "Тілші",
     "01.09.2019"],
    ["Браузерова", "Гүлнар", "+7 701 555 10 02", "browser-2@mail.kz", "Abai.kz", "Редактор",
     "2020-02-03"],
    ["Браузеров", "Қайрат", "87015551003", "browser-3@mail.kz", "Abai.kz", "Редактор",
     "31.02.2020"],
]  # fmt: skip


def test_admin_imports_a_spreadsheet(new_page, live_server):
    page = new_page(locale="kk")
    log_in(page, live_server.url, "admin", PASSWORDS["admin"])
    wait_path(page, "/admin/users")
    page.goto(live_server.url + "/admin/import")
    expect(page.get_by_role("heading", name=tr("kk", "import.title"))).to_be_visible()

    page.locator("#import-upload input[type=file]").set_input_files(
        files=[{"name": "тізілім.xlsx", "mimeType": XLSX, "buffer": xlsx(HEADER, ROWS)}]
    )
    expect(page.locator("#import-chosen")).to_contain_text("тізілім.xlsx")
    page.locator("#import-read").click()
    # the phone column's header is not one the panel knows: it says which field is missing
    expect(page.locator("#import-error")).to_contain_text(tr("kk", "subject.phone"))
    page.get_by_label("Байланыс арнасы 7").select_option("phone")
    expect(page.locator("#import-error")).to_have_count(0)
    expect(page.locator("#count-accepted")).to_have_text("2")
    problems = page.locator("#import-problems")
    expect(problems).to_contain_text(tr("kk", "import.date_invalid"))
    expect(problems).to_contain_text(tr("kk", "import.field.joined"))
    screenshot(page, "import-kk-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "import-kk-phone")
    page.set_viewport_size(DESKTOP)

    with page.expect_download() as download:
        page.locator("#import-report").click()
    book = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == tr("kk", "import.report.row") and rows[1][0] == 4
    assert rows[1][3] == "31.02.2020"

    page.locator("#import-confirm").click()
    expect(page.locator("#import-confirm-text")).to_contain_text("тізілім.xlsx")
    expect(page.locator("#import-confirm-text")).to_contain_text("2")
    page.locator("#import-do").click()
    expect(page.locator("#import-notice")).to_contain_text(
        tr("kk", "import.done", count=2, consents=0)
    )
    screenshot(page, "import-kk-done")
