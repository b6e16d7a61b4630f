"""The staff pages at /admin end to end: real uvicorn, real headless Chromium, real uploads.

Screenshots go to tests/artifacts/ (the README's copies live in docs/).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from bot.records import Database
from bot.staff import StaffStore
from ingest.pipeline import Ingestor
from tests.fixtures_files import write_csv, write_docx, write_markdown
from tests.test_widget import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DOCS = Path(__file__).resolve().parent.parent / "docs"
ADMIN, ADMIN_PASSWORD = "root", "root-pass-2026"
EDITOR, EDITOR_PASSWORD = "zhang.wei", "editor-pass-2026"
LLM_KEY = "sk-admin-pages-not-for-display"  # no LLM URL/model: answers stay extractive

POLICY_TITLE = "江岸区沿江数据港算力券申领办法（试行）"
POLICY_FILE = "沿江数据港算力券申领办法.docx"
POLICY_ID = "沿江数据港算力券申领办法"


PROGRESS_RECORDER = """
window.progressSeen = [];
new MutationObserver((changes) => changes.forEach((c) => {
  if (c.target.tagName === "PROGRESS") window.progressSeen.push(Number(c.target.value));
})).observe(document.querySelector("#uploads"), {attributes: true, subtree: true});
"""


def _policy(amount: str) -> dict[str, str]:
    return {
        "适用对象": "在江岸区登记注册、从事人工智能、工业软件或数字内容研发的中小企业，"
        "租用沿江数据港算力平台的，可以申领算力券。",
        "支持标准": f"算力券按实际算力费用的百分之四十抵扣，每家企业每年最高可申领{amount}。",
        "申领流程": "企业登录江岸企服通，在“沿江数据港算力券”栏目提交算力租用合同和发票，"
        "区科技和经信局在十个工作日内完成审核并发放算力券。",
    }


@pytest.fixture(scope="module")
def admin_settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """A small deployed knowledge base, an admin from the environment, an editor account."""
    root = tmp_path_factory.mktemp("admin-pages")
    write_markdown(
        root / "kb" / "talent-apartment.md",
        "talent-apartment",
        "江岸区人才公寓申请指南",
        "## 申请条件\n"
        + "在江岸区工作的硕士及以上学历人才可以申请人才公寓，租金按市场价的五成收取，"
        "最长可租住三年；申请人及配偶在武汉市无自有住房。"
        * 3
        + "\n## 办理方式\n登录江岸人才网提交申请，区人才工作局十个工作日内答复。",
    )
    write_markdown(
        root / "kb" / "startup.md",
        "startup",
        "江岸区企业开办指南",
        "## 时限\n材料齐全的，企业开办一个工作日内办结，全程网上办理。",
        category="企业开办",
    )
    settings = Settings(
        data_dir=root / "data",
        admin_user=ADMIN,
        admin_password=ADMIN_PASSWORD,
        upload_max_mb=2,
        llm_api_key=LLM_KEY,
    )
    index = KnowledgeIndex.open(settings, embedder)
    assert Ingestor(index, progress=False).run([root / "kb"]).ok
    index.close()
    StaffStore(Database.from_settings(settings)).create(EDITOR, EDITOR_PASSWORD, "editor")
    return settings


@pytest.fixture(scope="module")
def server(admin_settings: Settings, embedder: Embedder) -> Iterator[LiveServer]:
    bot = Assistant(admin_settings, embedder=embedder)
    with LiveServer(admin_settings, bot) as live:
        yield live
    bot.close()


@pytest.fixture(scope="module")
def api(server: LiveServer) -> Iterator[httpx.Client]:
    """The admin API behind the pages' back (another member of staff, or setting up data)."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        res = client.post("/api/admin/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
        client.headers["Authorization"] = "Bearer " + res.json()["token"]
        yield client


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile; confirm() is accepted, its texts and page errors are kept."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda err: page.errors.append(str(err)))  # type: ignore[attr-defined]
    page.on(  # the pages' CSP refusing something they do (inline style, eval …)
        "console",
        lambda m: "Content Security Policy" in m.text and page.errors.append(m.text),  # type: ignore[attr-defined]
    )
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.accept()))  # type: ignore[attr-defined]
    yield page
    context.close()


def _log_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(url + "/admin")
    page.locator("#login-form input[name=username]").fill(username)
    page.locator("#login-form input[name=password]").fill(password)
    page.locator("#login-form button[type=submit]").click()
    page.locator("#app").wait_for()


def _wait_upload(page: Page, count: int, state: str) -> Locator:
    """The newest of `count` upload lines, once it has finished in `state`.

    The pages' CSP forbids eval, so waits use locators rather than wait_for_function.
    """
    items = page.locator("#uploads > li")
    expect(items).to_have_count(count)
    expect(items.first).to_have_attribute("data-state", state, timeout=30_000)
    return items.first


def _doc_row(page: Page, doc_id: str) -> Locator:
    return page.locator(f"#doc-table tr[data-doc-id='{doc_id}']")


def _version_states(page: Page) -> dict[str, str]:
    rows = page.locator(f"#doc-table tr[data-versions-of='{POLICY_ID}'] tbody tr")
    return {
        r.locator("td").nth(0).inner_text(): r.locator("td").nth(1).inner_text() for r in rows.all()
    }


def _replace_in_page(page: Page, path: Path, category: str = "") -> None:
    """替换 opens the file chooser and a panel under the row; 上传新版本 sends the file."""
    with page.expect_file_chooser() as chooser:
        _doc_row(page, POLICY_ID).get_by_role("button", name="替换").click()
    chooser.value.set_files(str(path))
    panel = page.locator(f"tr[data-replace-of='{POLICY_ID}']")
    assert panel.locator(".chosen").inner_text() == path.name
    if category:
        panel.locator("[name=category]").fill(category)
    panel.get_by_role("button", name="上传新版本").click()
    panel.wait_for(state="detached")


def _ask_in_chat(page: Page, url: str, question: str) -> Locator:
    """Ask in the full-page chat; the finished answer (it shows its rating buttons)."""
    page.goto(url + "/chat")
    page.locator("textarea").fill(question)
    page.keyboard.press("Enter")
    page.locator("button[aria-label='有帮助']").first.wait_for(timeout=30_000)
    return page.locator(".msg.bot").nth(1)


def test_documents_upload_chat_versions_and_audit(
    page: Page, server: LiveServer, api: httpx.Client, tmp_path: Path
) -> None:
    response = page.goto(server.url + "/admin")
    assert response is not None
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    script = page.request.get(server.url + "/admin/admin.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in script.text() and "localStorage" not in script.text()
    assert (
        page.request.get(server.url + "/admin/admin.css")
        .headers["content-type"]
        .startswith("text/css")
    )

    # a wrong password is refused with the server's message; the right one opens the pages
    page.locator("#login-form input[name=username]").fill(ADMIN)
    page.locator("#login-form input[name=password]").fill("not-the-password")
    page.locator("#login-form button[type=submit]").click()
    page.get_by_text("用户名或密码错误").wait_for()
    assert page.locator("#app").is_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-login.png"))
    page.locator("#login-form input[name=password]").fill(ADMIN_PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    page.locator("#doc-table tbody tr[data-doc-id]").first.wait_for()
    assert page.locator("#who-name").inner_text() == ADMIN
    assert page.locator(".tabs [data-view=audit]").is_visible()
    deployed = _doc_row(page, "startup")
    assert "随系统部署" in deployed.inner_text()
    assert deployed.get_by_role("button").count() == 0  # read-only

    # filters, applied by the server: category, and updated_since as an ISO date
    filters = page.locator("#doc-filters")
    filters.locator("select[name=category]").select_option("企业开办")
    with page.expect_response(lambda r: "/api/admin/documents?" in r.url) as filtered:
        filters.locator("button[type=submit]").click()
    assert "category=%E4%BC%81%E4%B8%9A%E5%BC%80%E5%8A%9E" in filtered.value.url
    expect(page.locator("#doc-table tr[data-doc-id]")).to_have_count(1)
    assert _doc_row(page, "startup").count() == 1
    filters.locator("button[type=reset]").click()
    _doc_row(page, "talent-apartment").wait_for()
    filters.locator("input[name=updated_since]").fill("2026-05-09")  # the day after both
    with page.expect_request(lambda r: "?updated_since=2026-05-09&" in r.url):
        filters.locator("button[type=submit]").click()
    page.locator("#doc-table td.empty", has_text="没有符合条件的文档").wait_for()
    filters.locator("button[type=reset]").click()
    _doc_row(page, "talent-apartment").wait_for()

    # a file over BOT_UPLOAD_MAX_MB alone: the whole upload fails with the server's reason
    big = tmp_path / "年度统计汇编.txt"
    big.write_bytes("统计数据\n".encode() * 300_000)
    page.locator("#upload-files").set_input_files(str(big))
    assert page.locator("#upload-chosen").inner_text() == big.name
    # a slow uplink (CDP) and a record of the progress bar's values show real progress events
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 4e6},
    )
    page.evaluate(PROGRESS_RECORDER)
    page.locator("#upload-form button[type=submit]").click()
    _wait_upload(page, 1, "failed")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    seen = page.evaluate("window.progressSeen")
    assert any(0 < v < 100 for v in seen) and seen[-1] == 100, seen
    assert "文件超过 2 MB" in page.locator("#uploads > li .state").first.inner_text()

    # upload the policy (and an empty file, which is refused with the reason)
    policy = write_docx(tmp_path / POLICY_FILE, POLICY_TITLE, _policy("30万元"))
    empty = tmp_path / "空白说明.txt"
    empty.write_bytes(b"")
    page.locator("#upload-files").set_input_files([str(policy), str(empty)])
    page.locator("#upload-form button[type=submit]").click()
    upload = _wait_upload(page, 2, "done")
    bar = upload.locator("progress")
    assert bar.evaluate("p => p.value === p.max")
    assert upload.locator(".state").inner_text().startswith("完成")
    assert "版本 1" in upload.locator("li.uploaded").inner_text()
    assert "空白说明.txt：文件为空" in upload.locator("li.rejected").inner_text()
    row = _doc_row(page, POLICY_ID)
    row.wait_for()
    assert POLICY_TITLE in row.inner_text() and "v1" in row.inner_text()

    # the assistant answers from it at once, citing it by title
    chat = page.context.new_page()
    answer = _ask_in_chat(chat, server.url, "沿江数据港算力券每年最多能申领多少？")
    assert "30万元" in answer.locator(".text").inner_text()
    answer.locator("button.cite").first.click()
    assert chat.locator("section.source h3").inner_text() == POLICY_TITLE
    chat.close()

    # a new version through 替换; its versions are listed
    _replace_in_page(
        page, write_docx(tmp_path / "v2.docx", POLICY_TITLE, _policy("50万元")), "数字经济"
    )
    assert "版本 2" in _wait_upload(page, 3, "done").inner_text()
    expect(row.locator("td").nth(2)).to_have_text("数字经济")  # given with the new version
    row.get_by_role("button", name="版本记录").click()
    expect(page.locator(f"tr[data-versions-of='{POLICY_ID}'] tbody tr")).to_have_count(2)
    assert _version_states(page) == {"v2": "当前版本", "v1": "历史版本"}
    page.screenshot(path=str(ARTIFACTS / "admin-documents.png"), full_page=True)
    shutil.copyfile(ARTIFACTS / "admin-documents.png", DOCS / "admin-documents.png")

    # someone else replaces it meanwhile: this page's stale version is refused, the list reloads
    other = write_docx(tmp_path / "v3.docx", POLICY_TITLE, _policy("60万元"))
    res = api.put(
        f"/api/admin/documents/{POLICY_ID}",
        files={"file": (POLICY_FILE, other.read_bytes())},
        data={"base_version": "2"},
    )
    assert res.status_code == 200, res.text
    _replace_in_page(page, write_docx(tmp_path / "v4.docx", POLICY_TITLE, _policy("70万元")))
    page.locator("#notice").get_by_text("已被他人修改").wait_for()
    _wait_upload(page, 4, "failed")
    expect(row.locator("td").nth(2)).to_have_text(
        "数字经济"
    )  # kept: v3 did not say    expect(page.locator(f"tr[data-versions-of='{POLICY_ID}'] tbody tr")).to_have_count(3)
    assert _version_states(page)["v3"] == "当前版本"

    # roll back to version 1 (after confirm): live again as version 4
    versions = page.locator(f"tr[data-versions-of='{POLICY_ID}']")
    versions.locator("tr[data-version='1']").get_by_role("button", name="回滚到此版本").click()
    expect(page.locator(f"tr[data-versions-of='{POLICY_ID}'] tbody tr")).to_have_count(4)
    assert _version_states(page) == {
        "v4": "当前版本",
        "v3": "历史版本",
        "v2": "历史版本",
        "v1": "历史版本",
    }
    assert any("版本 1" in d for d in page.dialogs)  # type: ignore[attr-defined]
    # version 1 is now the live content again: nothing to roll back to there
    assert "与当前版本相同" in versions.locator("tr[data-version='1']").inner_text()
    assert versions.get_by_role("button", name="回滚到此版本").count() == 2

    # delete (after confirm): gone from the list and from the assistant's sources
    row.get_by_role("button", name="删除").click()
    row.wait_for(state="detached")
    assert any(POLICY_TITLE in d for d in page.dialogs)  # type: ignore[attr-defined]
    asked = api.post("/api/chat", json={"question": "沿江数据港算力券每年最多能申领多少？"})
    assert POLICY_ID not in {s["doc_id"] for s in asked.json()["sources"]}

    # the audit log lists every step, newest first
    page.locator(".tabs [data-view=audit]").click()
    page.locator("#audit-table tbody tr td").first.wait_for()
    audit = page.locator("#audit-table tbody")
    audit.locator("tr").nth(7).wait_for()
    actions = [r.locator("td").nth(2).inner_text() for r in audit.locator("tr").all()]
    # refused changes too: the oversize and the empty file, the stale replace
    assert actions[:8] == [
        "删除",
        "回滚",
        "替换被拒",
        "替换",
        "替换",
        "上传被拒",
        "上传",
        "上传被拒",
    ]
    assert "文件为空" in audit.locator("tr").nth(5).inner_text()
    upload_row = audit.locator("tr").nth(6)
    assert POLICY_FILE in upload_row.inner_text() and ADMIN in upload_row.inner_text()
    assert "— → v1" in upload_row.inner_text()
    csv_link = page.get_by_role("link", name="导出 CSV")
    csv = page.request.get(server.url + str(csv_link.get_attribute("href")))
    assert csv.ok and POLICY_FILE in csv.text()
    page.screenshot(path=str(ARTIFACTS / "admin-audit.png"), full_page=True)

    # log out: the form is back and the cookie no longer works
    page.get_by_role("button", name="退出").click()
    page.locator("#login").wait_for()
    assert page.request.get(server.url + "/api/admin/me").status == 401
    assert page.errors == []  # type: ignore[attr-defined]


def test_editor_has_no_audit_log(page: Page, server: LiveServer) -> None:
    _log_in(page, server.url, EDITOR, EDITOR_PASSWORD)
    assert page.locator("#who-role").inner_text() == "编辑"
    assert page.locator(".tabs [data-view=documents]").is_visible()
    assert page.locator(".tabs [data-view=audit]").is_hidden()
    assert page.locator(".tabs [data-view=settings]").is_hidden()
    # a bookmarked #audit or #settings falls back to the documents view
    for view in ("audit", "settings"):
        page.goto(server.url + "/admin#" + view)
        page.locator("#view-documents").wait_for()
        assert page.locator("#view-" + view).is_hidden()
        assert page.request.get(server.url + "/api/admin/" + view).status == 403
    assert page.request.get(server.url + "/api/admin/users").status == 403
    # a session that ends (here: logged out elsewhere) brings back the log-in form
    page.request.post(server.url + "/api/admin/logout", headers={"Origin": server.url})
    page.locator(".tabs [data-view=documents]").click()
    page.get_by_text("登录已过期，请重新登录").wait_for()
    assert page.errors == []  # type: ignore[attr-defined]


def test_too_many_failed_log_ins_say_when_to_retry(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/admin")
    form = page.locator("#login-form")
    form.locator("input[name=username]").fill("nobody")
    for attempt in range(6):
        form.locator("input[name=password]").fill(f"guess-{attempt}")
        form.locator("button[type=submit]").click()
        expect(form.locator("button[type=submit]")).to_be_enabled()
    message = page.locator("#login-error").inner_text()
    assert message.startswith("尝试次数过多，请稍后再试") and "秒后" in message


def test_faq_create_edit_conflict_delete(page: Page, server: LiveServer, api: httpx.Client) -> None:
    _log_in(page, server.url, ADMIN, ADMIN_PASSWORD)
    page.locator(".tabs [data-view=faq]").click()
    page.get_by_role("button", name="新增问答").click()
    form = page.locator("#faq-form")
    form.locator("[name=question]").fill("企业服务专员怎么预约？")
    form.locator("[name=alternatives]").fill("怎么预约企业服务专员\n\n企业服务专员在哪里预约\n")
    form.locator("[name=answer]").fill(
        "登录江岸企服通，在“服务专员”栏目选择所在街道后预约，工作日两小时内回电。"
    )
    form.locator("[name=category]").fill("企业服务")
    form.locator("[name=department]").fill("区营商环境办")
    form.locator("[name=contact]").fill("027-5000-0003")
    form.get_by_role("button", name="保存").click()
    form.wait_for(state="hidden")
    entry = next(
        e for e in api.get("/api/admin/faq").json() if e["question"].startswith("企业服务")
    )
    assert entry["alternatives"] == ["怎么预约企业服务专员", "企业服务专员在哪里预约"]
    assert entry["department"] == "区营商环境办" and entry["updated_by"] == ADMIN
    row = page.locator(f"#faq-table tr[data-faq-id='{entry['id']}']")
    assert "v1" in row.inner_text()
    chat = api.post("/api/chat", json={"question": "怎么预约企业服务专员"}).json()
    assert chat["answered"] and "两小时内回电" in chat["answer"]
    # it is listed with the documents too, edited here only
    page.locator(".tabs [data-view=documents]").click()
    listed = _doc_row(page, entry["doc_id"])
    assert "后台问答" in listed.inner_text()
    listed.get_by_role("button", name="在常见问答中编辑").click()
    row.wait_for()

    # edit: the form opens with the entry; saving makes version 2
    row.get_by_role("button", name="编辑").click()
    assert form.locator("[name=question]").input_value() == "企业服务专员怎么预约？"
    form.locator("[name=answer]").fill("登录江岸企服通预约，工作日一小时内回电。")
    form.get_by_role("button", name="保存").click()
    expect(row).to_contain_text("v2")

    # someone else saves meanwhile: this page's edit is refused and the list reloads
    fields = {k: entry[k] for k in ("question", "alternatives", "category", "department")}
    res = api.put(
        f"/api/admin/faq/{entry['id']}",
        json={**fields, "answer": "电话预约：027-5000-0003。", "base_version": 2},
    )
    assert res.status_code == 200, res.text
    row.get_by_role("button", name="编辑").click()
    form.locator("[name=answer]").fill("这次修改基于旧版本，应被拒绝。")
    form.get_by_role("button", name="保存").click()
    page.locator("#notice").get_by_text("已被他人修改").wait_for()
    expect(row).to_contain_text("v3")
    assert "027-5000-0003" in row.inner_text()

    row.get_by_role("button", name="删除").click()
    row.wait_for(state="detached")
    assert all(e["id"] != entry["id"] for e in api.get("/api/admin/faq").json())
    assert page.errors == []  # type: ignore[attr-defined]


def test_insight_group_becomes_a_faq_in_one_click(
    page: Page, server: LiveServer, api: httpx.Client
) -> None:
    asked = [
        "无人机航拍需要去哪里备案？",
        "无人机航拍需要去哪里备案？",
        "无人机航拍需要到哪里备案？",
    ]
    for question in asked:
        assert not api.post("/api/chat", json={"question": question}).json()["answered"]
    disliked = "人才公寓租金怎么算？"
    api.post(
        "/api/feedback",
        json={"question": disliked, "answer": "租金按市场价的五成收取。", "rating": "down"},
    )
    groups = api.get("/api/admin/insight?days=30").json()
    group = next(g for g in groups["unanswered"] if "无人机" in g["question"])

    _log_in(page, server.url, ADMIN, ADMIN_PASSWORD)
    page.locator(".tabs [data-view=insight]").click()
    page.locator("#disliked-table").get_by_text(disliked).first.wait_for()
    row = page.locator("#unanswered-table tbody tr", has_text=group["question"]).first
    row.get_by_role("button", name="添加为问答").click()
    form = page.locator("#faq-form")
    form.wait_for()
    assert page.locator("#view-faq").is_visible()
    assert form.locator("[name=question]").input_value() == group["question"]
    others = [q for q in group["examples"] if q != group["question"]]
    assert others == ["无人机航拍需要到哪里备案？"]  # the other wording was grouped with it
    assert form.locator("[name=alternatives]").input_value().split("\n") == others
    form.locator("[name=answer]").fill("无人机航拍请向民航主管部门申请空域，详询12345。")
    form.get_by_role("button", name="保存").click()
    form.wait_for(state="hidden")
    saved = [e for e in api.get("/api/admin/faq").json() if e["question"] == group["question"]]
    assert len(saved) == 1 and saved[0]["alternatives"] == others
    page.screenshot(path=str(ARTIFACTS / "admin-faq.png"), full_page=True)
    # back in the insight view the group now shows the entry that answers it
    page.locator(".tabs [data-view=insight]").click()
    covered = page.locator("#unanswered-table tbody tr", has_text=group["question"]).first
    covered.get_by_text("已有问答 " + saved[0]["doc_id"]).wait_for()
    # the day's questions as a bar (and the answered share as a line), drawn as SVG elements
    chart = page.locator("#daily-chart svg")
    assert chart.locator("rect").count() == 30 and chart.locator("circle").count() >= 1
    assert "合计" in page.locator("#daily-chart figcaption").inner_text()
    assert page.locator("#low-confidence-table").is_visible()
    page.screenshot(path=str(ARTIFACTS / "admin-insight.png"), full_page=True)
    shutil.copyfile(ARTIFACTS / "admin-insight.png", DOCS / "admin-insight.png")
    api.delete(f"/api/admin/faq/{saved[0]['id']}")
    assert page.errors == []  # type: ignore[attr-defined]


def test_hit_test_shows_ranked_documents_and_passages(
    page: Page, server: LiveServer, api: httpx.Client
) -> None:
    _log_in(page, server.url, ADMIN, ADMIN_PASSWORD)
    page.locator(".tabs [data-view=hit-test]").click()
    page.locator("#hit-form input[name=question]").fill("人才公寓怎么申请？")
    page.get_by_role("button", name="测试").click()
    first = page.locator("#hit-table tr[data-rank='1']")
    first.wait_for()
    assert "会回答" in page.locator("#hit-summary").inner_text()
    cells = first.locator("td")
    assert cells.nth(1).inner_text() == "江岸区人才公寓申请指南"
    assert cells.nth(2).inner_text() == "talent-apartment"
    assert cells.nth(4).inner_text() == "100"  # relevance: the best document is 100
    summary = page.locator("#hit-summary").inner_text()
    assert "问题焦点" in summary and "所问方面" in summary and "办理流程" in summary
    # a long passage is cut, and its toggle shows all of it
    passage = first.locator(".truncatable").first
    short = passage.locator("p").inner_text()
    assert short.endswith("…")
    passage.get_by_role("button", name="展开").click()
    assert len(passage.locator("p").inner_text()) > len(short)
    page.screenshot(path=str(ARTIFACTS / "admin-hit-test.png"), full_page=True)
    shutil.copyfile(ARTIFACTS / "admin-hit-test.png", DOCS / "admin-hit-test.png")
    # a near-topic question: the word the passage lacks is shown struck out, with the reason
    page.locator("#hit-form input[name=question]").fill("人才公寓可以养宠物吗？")
    page.get_by_role("button", name="测试").click()
    page.locator("#hit-summary .term.missing", has_text="宠物").wait_for()
    assert "引用的段落没有提到问题所问的事物" in page.locator("#hit-summary").inner_text()
    assert page.errors == []  # type: ignore[attr-defined]


def test_accounts_and_settings(
    page: Page, server: LiveServer, api: httpx.Client, admin_settings: Settings
) -> None:
    _log_in(page, server.url, ADMIN, ADMIN_PASSWORD)
    page.locator(".tabs [data-view=settings]").click()
    users = page.locator("#user-table")
    users.locator(f"tr[data-user='{EDITOR}']").wait_for()
    assert "管理员" in users.locator(f"tr[data-user='{ADMIN}']").inner_text()

    # the knowledge base in numbers: the same count /healthz gives
    health = api.get("/healthz").json()
    stat = page.locator("#stats [data-stat=documents]")
    stat.wait_for()
    assert stat.locator("strong").inner_text() == str(health["documents"])
    assert page.locator("#stats [data-stat=chunks] strong").inner_text() == str(health["chunks"])
    # the running settings, read-only; secrets never reach the page in clear
    top_k = page.locator("#settings-table tr[data-setting=BOT_TOP_K]")
    assert top_k.locator("td").nth(1).inner_text() == str(admin_settings.top_k)
    assert top_k.locator("td").nth(2).inner_text() not in ("", "—")
    for secret in ("BOT_LLM_API_KEY", "BOT_ADMIN_PASSWORD"):
        row = page.locator(f"#settings-table tr[data-setting={secret}]")
        assert row.locator("td").nth(1).inner_text() == "******"
    html = page.content()
    assert LLM_KEY not in html and ADMIN_PASSWORD not in html
    assert "环境变量" in page.locator("#view-settings").inner_text()
    page.screenshot(path=str(ARTIFACTS / "admin-settings.png"), full_page=True)

    # a new editor: the two passwords must match (checked here), the server's rules apply
    form = page.locator("#user-form")
    newcomer, password = "li.na", "li-na-pass-2026"
    form.locator("[name=username]").fill(newcomer)
    form.locator("[name=password]").fill(password)
    form.locator("[name=password2]").fill(password + "x")
    form.get_by_role("button", name="创建账号").click()
    assert page.locator("#user-error").inner_text() == "两次输入的密码不一致"
    form.locator("[name=password]").fill("short")
    form.locator("[name=password2]").fill("short")
    form.get_by_role("button", name="创建账号").click()
    page.locator("#user-error").get_by_text("密码至少").wait_for()
    assert newcomer not in {u["username"] for u in api.get("/api/admin/users").json()}
    form.locator("[name=password]").fill(password)
    form.locator("[name=password2]").fill(password)
    assert form.locator("[name=role]").input_value() == "editor"
    form.get_by_role("button", name="创建账号").click()
    created = users.locator(f"tr[data-user='{newcomer}']")
    created.wait_for()
    assert "编辑" in created.inner_text()
    assert form.locator("[name=username]").input_value() == ""  # the form is cleared
    with httpx.Client(base_url=server.url) as other:
        res = other.post("/api/admin/login", json={"username": newcomer, "password": password})
        assert res.status_code == 200 and res.json()["role"] == "editor"
        token = {"Authorization": "Bearer " + res.json()["token"]}
        assert other.get("/api/admin/documents", headers=token).status_code == 200

        # the same name again is refused with the server's reason
        form.locator("[name=username]").fill(newcomer)
        form.locator("[name=password]").fill(password)
        form.locator("[name=password2]").fill(password)
        form.get_by_role("button", name="创建账号").click()
        page.locator("#user-error").get_by_text("已存在").wait_for()

        # deleted (after confirm): the row goes, and so do its log-ins
        created.get_by_role("button", name="删除").click()
        created.wait_for(state="detached")
        assert any(newcomer in d for d in page.dialogs)  # type: ignore[attr-defined]
        assert other.get("/api/admin/documents", headers=token).status_code == 401
    assert newcomer not in {u["username"] for u in api.get("/api/admin/users").json()}

    # your own account cannot go: the server's reason is shown, the row stays
    users.locator(f"tr[data-user='{ADMIN}']").get_by_role("button", name="删除").click()
    page.locator("#notice.error").get_by_text("不能删除自己的账号").wait_for()
    assert users.locator(f"tr[data-user='{ADMIN}']").count() == 1
    assert ADMIN in {u["username"] for u in api.get("/api/admin/users").json()}

    # both changes are in the audit log
    page.locator(".tabs [data-view=audit]").click()
    page.locator("#audit-table tbody tr td").first.wait_for()
    actions = [
        r.locator("td").nth(2).inner_text() for r in page.locator("#audit-table tbody tr").all()
    ]
    assert actions[:2] == ["删除账号", "创建账号"]
    assert page.errors == []  # type: ignore[attr-defined]


HOUSING_FILE = "江岸区青年人才安居补贴办法.docx"
HOUSING_ID = "江岸区青年人才安居补贴办法"
HOUSING_TITLE = "江岸区青年人才安居补贴办法"


def test_upload_with_category_then_delete_and_restore(
    page: Page, server: LiveServer, api: httpx.Client, tmp_path: Path
) -> None:
    _log_in(page, server.url, ADMIN, ADMIN_PASSWORD)
    housing = write_docx(
        tmp_path / HOUSING_FILE,
        HOUSING_TITLE,
        {
            "补贴标准": "在江岸区工作的全日制本科毕业生，每人每月可领取青年人才安居补贴八百八十元，"
            "最长发放三十六个月。",
            "申请方式": "通过江岸人才网提交劳动合同和社保缴纳记录，每季度首月集中受理。",
        },
    )
    upload = page.locator("#upload-form")
    upload.locator("#upload-files").set_input_files(str(housing))
    upload.locator("[name=category]").fill("人才政策")
    upload.locator("[name=department]").fill("区人社局")
    upload.locator("[name=contact]").fill("027-5000-0009")
    upload.get_by_role("button", name="上传").click()
    _wait_upload(page, 1, "done")
    # the list row: the upload's category and department, the file name under the title
    row = _doc_row(page, HOUSING_ID)
    row.wait_for()
    cells = row.locator("td")
    assert cells.nth(0).locator(".file").inner_text() == HOUSING_FILE
    assert cells.nth(2).inner_text() == "人才政策" and cells.nth(3).inner_text() == "区人社局"
    assert "v1" in row.inner_text()

    # the category filter finds it (with the deployed guide of that category), nothing else
    filters = page.locator("#doc-filters")
    filters.locator("select[name=category]").select_option("人才政策")
    filters.get_by_role("button", name="筛选", exact=True).click()
    listed = page.locator("#doc-table tr[data-doc-id]")
    expect(listed).to_have_count(2)
    assert {r.get_attribute("data-doc-id") for r in listed.all()} == {
        HOUSING_ID,
        "talent-apartment",
    }
    filters.locator("button[type=reset]").click()
    _doc_row(page, "talent-apartment").wait_for()

    # deleted (after confirm): it leaves the list and is listed under 已删除的文档
    row.get_by_role("button", name="删除").click()
    row.wait_for(state="detached")
    assert "可在“已删除的文档”中恢复" in page.dialogs[-1]  # type: ignore[attr-defined]
    deleted = page.locator("#deleted-docs")
    assert deleted.locator("table").is_hidden()  # collapsed until opened
    deleted.locator("summary").click()
    gone = deleted.locator(f"tr[data-deleted='{HOUSING_FILE}']")
    gone.wait_for()
    assert "v1" in gone.inner_text() and ADMIN in gone.inner_text()
    page.screenshot(path=str(ARTIFACTS / "admin-deleted.png"), full_page=True)

    # 恢复: the last version is live again as a new version, with its category
    gone.get_by_role("button", name="恢复").click()
    gone.wait_for(state="detached")
    row.wait_for()
    assert "v2" in row.inner_text()
    assert cells.nth(2).inner_text() == "人才政策" and cells.nth(3).inner_text() == "区人社局"
    assert "已恢复" in page.locator("#notice").inner_text()
    answer = _ask_in_chat(page.context.new_page(), server.url, "青年人才安居补贴每月多少钱？")
    assert "八百八十元" in answer.locator(".text").inner_text()
    # restoring a file that is live again is refused
    again = api.post(f"/api/admin/documents/deleted/{HOUSING_FILE}/restore")
    assert again.status_code == 409, again.text
    api.delete(f"/api/admin/documents/{HOUSING_ID}")
    assert page.errors == []  # type: ignore[attr-defined]


def test_faq_table_delete_warns_about_the_whole_file(
    page: Page, server: LiveServer, api: httpx.Client, tmp_path: Path
) -> None:
    table = write_csv(
        tmp_path / "人才服务问答.csv",
        [
            ("人才服务专窗在哪里？", "人才服务专窗设在江岸区政务服务中心二楼。", "人才服务"),
            ("人才服务专窗几点上班？", "工作日上午九点至下午五点。", "人才服务"),
        ],
    )
    res = api.post(
        "/api/admin/documents", files=[("files", (table.name, table.read_bytes(), "text/csv"))]
    )
    assert res.status_code == 201, res.text
    doc_ids = res.json()["uploaded"][0]["doc_ids"]
    assert len(doc_ids) == 2
    _log_in(page, server.url, ADMIN, ADMIN_PASSWORD)
    # the table is one row (its file name, its number of questions), not one per question
    row = _doc_row(page, doc_ids[0])
    row.wait_for()
    assert _doc_row(page, doc_ids[1]).count() == 0
    assert row.locator("td").nth(0).inner_text().splitlines() == [table.name, "问答表格 · 2 条问答"]
    assert row.get_attribute("data-rows") == "2"
    page.screenshot(path=str(ARTIFACTS / "admin-faq-table.png"), full_page=True)
    row.get_by_role("button", name="删除").click()
    row.wait_for(state="detached")
    warning = page.dialogs[-1]  # type: ignore[attr-defined]
    assert table.name in warning and "共含 2 篇" in warning and "整个文件" in warning
    assert page.errors == []  # type: ignore[attr-defined]


def test_documents_list_has_pages_and_a_search_box(
    page: Page, server: LiveServer, api: httpx.Client
) -> None:
    """More documents than a page holds: 第 1 / 2 页, 下一页, and a search that finds one."""
    files = [
        (
            "files",
            (
                f"样例通知{n:02d}.md",
                f"# 江岸区样例通知第{n:02d}号\n\n本通知第{n:02d}号仅用于分页演示，不含政策内容。".encode(),
                "text/markdown",
            ),
        )
        for n in range(1, 53)
    ]
    res = api.post("/api/admin/documents", files=files)
    assert res.status_code == 201 and len(res.json()["uploaded"]) == 52, res.text
    try:
        _log_in(page, server.url, ADMIN, ADMIN_PASSWORD)
        rows = page.locator("#doc-table tr[data-doc-id]")
        expect(rows).to_have_count(50)
        total = api.get("/api/admin/documents", params={"group": "file", "limit": 1}).json()
        pager = page.locator("#doc-pager")
        expect(pager.locator(".hint")).to_have_text("第 1 / 2 页")
        assert f"共 {total['total']} 项" in page.locator("#doc-count").inner_text()
        assert pager.get_by_role("button", name="上一页").is_disabled()
        with page.expect_response(lambda r: "offset=50" in r.url):
            pager.get_by_role("button", name="下一页").click()
        expect(pager.locator(".hint")).to_have_text("第 2 / 2 页")
        expect(rows).to_have_count(total["total"] - 50)
        assert pager.get_by_role("button", name="下一页").is_disabled()

        # the search box: one notice by its number, from page 2 back to a single page
        filters = page.locator("#doc-filters")
        filters.locator("input[name=q]").fill("第07号")
        with page.expect_response(lambda r: "q=%E7%AC%AC07%E5%8F%B7" in r.url):
            filters.get_by_role("button", name="筛选", exact=True).click()
        expect(rows).to_have_count(1)
        assert "江岸区样例通知第07号" in rows.first.inner_text()
        assert page.locator("#doc-pager").is_hidden()
        assert "符合条件 1 项" in page.locator("#doc-count").inner_text()
        filters.locator("input[name=q]").fill("")
        filters.get_by_role("button", name="筛选", exact=True).click()
        expect(pager.locator(".hint")).to_have_text("第 1 / 2 页")
        page.screenshot(path=str(ARTIFACTS / "admin-documents-pages.png"), full_page=True)
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        for doc in api.get("/api/admin/documents").json():
            if doc["file"].startswith("样例通知"):
                api.delete(f"/api/admin/documents/{doc['doc_id']}")
