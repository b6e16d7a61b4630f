"""What the official account and WeCom say to a message: the answer within WeChat's 5 s,
one computation per message on any replica (web/wechat/ledger.py), and the fall-backs when
the answer is slower than that.

Official account, a question arrives (WeChat waits 5 s for the reply, then tries again,
three tries in all, each possibly on another replica):

- the first try claims the message and computes the answer in the background; every try
  waits up to `BOT_WECHAT_REPLY_SECONDS` (4.5 s) for it, and the try that finds it ready
  replies with its first part (and 「回复“继续”查看更多」 when more follow);
- `service` account, no answer in time: reply `success` (WeChat stops trying) and push the
  answer as customer-service messages when it is ready;
- `subscription` account, no answer in time: tries 1 and 2 say nothing until WeChat gives
  up on them (so it tries again); the third says 「答案整理中，请回复任意内容查看」 and the
  answer is given with the user's next message.

WeCom: the callback is answered at once and the answer sent through `message/send`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
from sqlalchemy import select

from bot.assistant import Assistant
from bot.errors import BotError, OverloadedError
from bot.models import Answer
from bot.records.models import faq_entries
from web import metrics
from web.admission import Admission
from web.wechat.api import WechatError
from web.wechat.ledger import LEASE_S, Entry, Ledger
from web.wechat.messages import Message
from web.wechat.plaintext import reply_parts

log = logging.getLogger(__name__)

MORE = "回复“继续”查看更多"
CONTINUE_WORDS = frozenset({"继续", "繼續", "更多", "继续。", "continue", "more"})
WORKING = "答案整理中，请回复任意内容查看"
STILL_WORKING = "上一个问题的答案还在整理，请稍后回复任意内容查看。"
NO_MORE = "没有更多内容了。您可以继续提问。"
TEXT_ONLY = "目前支持文字提问，请用文字描述您想咨询的问题，例如：企业开办需要多长时间？"
VOICE_UNHEARD = "没能识别这段语音，请用文字提问。"
FAILED = "抱歉，暂时无法回答，请稍后再问；也可拨打{hotline}咨询。"
OWED_NOTE = "（以上是您之前问题的答案。如有新的问题，请再发送一次。）"
LIMIT = 2000  # bytes of one text message (WeChat allows 2,048)
MAX_QUESTION_CHARS = 1000  # as /api/chat
TOO_LONG = "问题太长了，请精简到1000字以内再发送。"
QUEUE_S = 60.0  # how long a callback's answer may wait for a place among the answers
PUSH_AFTER_S = 1.0
SUGGEST_TTL_S = 600.0
POLL_S = 0.1  # how often a try waiting on another replica's computation looks again
PUSH_LIMIT = 5  # customer-service messages WeChat allows after one user message (48 h)
DEFAULT_QUESTIONS = ("企业开办需要多长时间？", "人才公寓怎么申请？", "有哪些创业扶持政策？")


@dataclass
class Reply:
    """What the callback answers: a text, or nothing (`success`: WeChat stops trying)."""

    text: str | None = None
    hold_until: float = 0.0  # say nothing until then: WeChat gives up on this try, tries again


Push = Callable[[str, str], Awaitable[None]]


class Conversations:
    """One per channel (the official account, a WeCom app) per process."""

    def __init__(
        self,
        assistant: Assistant,
        ledger: Ledger,
        *,
        channel: str,
        account: str,  # "service", "subscription" or "wecom"
        reply_s: float,
        push: Push | None = None,
        admission: Admission | None = None,
    ) -> None:
        self.assistant = assistant
        self.admission = admission  # the same places for answers as /api/chat
        self.ledger = ledger
        self.channel = channel
        self.account = account
        self.reply_s = reply_s
        self.push = push
        self._tasks: dict[str, asyncio.Task[Entry | None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.pushed = 0  # messages pushed by this process (tests, logs)
        self._suggested: tuple[float, list[str]] = (0.0, [])

    # --- the official account: a reply within the time ------------------------------------
    async def reply(self, msg: Message, key: str, started: float | None = None) -> Reply:
        started = time.monotonic() if started is None else started
        deadline = started + self.reply_s
        if msg.msg_type == "event":
            return await self._event(msg)
        question = self._question(msg)
        if question is None:
            return Reply(VOICE_UNHEARD if msg.msg_type == "voice" else TEXT_ONLY)
        if len(question) > MAX_QUESTION_CHARS:
            return Reply(TOO_LONG)
        entry = await anyio.to_thread.run_sync(self.ledger.claim, key, msg.from_user)
        if entry.own:
            self._start(key, msg.from_user, question)
        if await self._ready(key, deadline):
            return await self._deliver(key, "working")
        if self.account == "service":
            return await self._deliver(key, "push")
        last = entry.attempts >= 3
        reply = await self._deliver(key, "owed" if last else "working")
        if reply.hold_until < 0:  # say nothing until WeChat has given up on this try
            reply.hold_until = started + self.reply_s + 1.0  # past its 5 s
        return reply

    async def _deliver(self, key: str, fallback: str) -> Reply:
        entry = await anyio.to_thread.run_sync(lambda: self.ledger.take(key, fallback=fallback))
        if entry is None:
            return Reply()
        if entry.state == "delivered" and entry.own:  # this reply carries it
            first = entry.parts[0] if entry.parts else ""
            more = len(entry.parts) > 1
            if more and self.account == "service" and entry.kind == "answer" and entry.sent <= 1:
                self._spawn(self._push_rest(key, entry))
                return Reply(first)
            return Reply(f"{first}\n\n{MORE}" if more else first)
        if entry.state == "owed":
            return Reply(WORKING)
        if entry.state == "working":
            return Reply(hold_until=-1.0)  # the caller holds this try
        return Reply()  # push (pushed when ready), or another try delivered it

    async def _ready(self, key: str, deadline: float) -> bool:
        """Wait for the answer until `deadline`: on this process's task, else by polling
        the row another replica is computing."""
        while True:
            task = self._tasks.get(key)
            left = deadline - time.monotonic()
            if task is not None:
                if left <= 0:
                    return task.done()
                done, _ = await asyncio.wait({task}, timeout=left)
                return bool(done)
            entry = await anyio.to_thread.run_sync(self.ledger.get, key)
            if entry is None or entry.state != "working":
                return entry is not None and entry.state == "ready"
            if left <= 0:
                return False
            await asyncio.sleep(min(POLL_S, left))

    def _question(self, msg: Message) -> str | None:
        if msg.msg_type == "text":
            return (msg.content or "").strip() or None
        if msg.msg_type == "voice":
            return (msg.recognition or "").strip() or None
        return None

    # --- the computation ------------------------------------------------------------------
    def _start(self, key: str, openid: str, question: str) -> None:
        task = asyncio.get_running_loop().create_task(self._compute(key, openid, question))
        self._tasks[key] = task
        task.add_done_callback(lambda _t: self._forget_task(key))

    def _forget_task(self, key: str) -> None:
        # kept a little after it finished: a retry on this process finds it without a query
        asyncio.get_running_loop().call_later(30.0, self._tasks.pop, key, None)

    async def _compute(self, key: str, openid: str, question: str) -> Entry | None:
        kind = "relay"
        started = time.monotonic()
        try:
            parts, kind = await self._parts(openid, question)
            log.debug(
                "%s message %s: reply ready in %.2f s",
                self.channel,
                key,
                time.monotonic() - started,
            )
        except BotError as exc:
            log.warning("%s message %s not answered: %s", self.channel, key, exc.message)
            parts = [FAILED.format(hotline=self.assistant.settings.hotline)]
        except asyncio.CancelledError:  # shutting down: say so rather than leave it working
            parts = [FAILED.format(hotline=self.assistant.settings.hotline)]
            await asyncio.shield(self._store(key, parts, "relay"))
            raise
        except Exception:
            log.exception("%s message %s not answered", self.channel, key)
            parts = [FAILED.format(hotline=self.assistant.settings.hotline)]
        entry = await self._store(key, parts, kind)
        if entry is not None and entry.state == "pushed":
            await self._push_parts(key, entry, 0)
        return entry

    async def _store(self, key: str, parts: list[str], kind: str) -> Entry | None:
        """Keep the reply; a records database that fails is tried again for a while (a row
        left `working` is taken over by a later try, or given up, after `LEASE_S`)."""
        for attempt in range(5):
            try:
                return await anyio.to_thread.run_sync(lambda: self.ledger.store(key, parts, kind))
            except BotError as exc:
                log.warning("%s message %s not stored (%s)", self.channel, key, exc.message)
                await asyncio.sleep(0.5 * 2**attempt)
        return None

    async def _parts(self, openid: str, question: str) -> tuple[list[str], str]:
        """The reply parts for one user message, and their kind."""
        owed = await anyio.to_thread.run_sync(self.ledger.owed, self.channel, openid)
        if owed is not None and not owed.parts and owed.claimed_at < time.time() - LEASE_S:
            # its computation was lost (a process stopped): give it up, answer this one
            await anyio.to_thread.run_sync(self.ledger.abandon, owed.key)
            owed = None
        if owed is not None:
            collected = await anyio.to_thread.run_sync(self.ledger.collect, owed.key)
            if collected is None:
                return [STILL_WORKING], "relay"
            rest = collected.parts[1:]
            first = collected.parts[0] + (f"\n\n{MORE}" if rest else "")
            note = f"\n\n{OWED_NOTE}"
            if question.lower() not in CONTINUE_WORDS and len((first + note).encode()) <= LIMIT:
                first += note
            return [first], "relay"
        if question.strip().lower() in CONTINUE_WORDS:
            found = await anyio.to_thread.run_sync(self.ledger.next_part, self.channel, openid)
            if found is None:
                return [NO_MORE], "relay"
            entry, part = found
            more = entry.sent < len(entry.parts)
            return [f"{part}\n\n{MORE}" if more else part], "relay"
        session_id = self.assistant.sessions.id_for(f"{self.channel}:{openid}")
        answer = await self._ask(question, session_id)
        metrics.count_answer(answer.answered, answer.mode)
        return reply_parts(answer.text, answer.sources, limit=LIMIT, more_prompt=MORE), "answer"

    async def _ask(self, question: str, session_id: str) -> Answer:
        """The answer, in one of the places for answers that /api/chat uses. No reply
        waits on it (the fall-backs do), so it queues longer than a web request would."""

        def ask() -> Answer:
            return self.assistant.ask(question, session_id=session_id)

        if self.admission is None:
            return await anyio.to_thread.run_sync(ask)
        give_up = time.monotonic() + QUEUE_S
        while True:
            try:
                async with self.admission.slot():
                    return await anyio.to_thread.run_sync(ask)
            except OverloadedError:
                if time.monotonic() > give_up:
                    raise
                await asyncio.sleep(0.5)

    # --- pushing (service account, WeCom) ---------------------------------------------------
    async def _push_rest(self, key: str, entry: Entry) -> None:
        # after the passive reply with the first part has gone out (it is sent when this
        # coroutine first waits; a second more keeps part 2 from overtaking it on WeChat's side)
        await asyncio.sleep(PUSH_AFTER_S)
        await self._push_parts(key, entry, 1)

    async def _push_parts(self, key: str, entry: Entry, start: int) -> None:
        if self.push is None:
            return
        sent = start
        limit = PUSH_LIMIT if self.account == "service" else len(entry.parts)
        batch = entry.parts[start : start + limit]
        for n, part in enumerate(batch):
            if n == len(batch) - 1 and start + len(batch) < len(entry.parts):
                part = f"{part}\n\n{MORE}"  # WeChat's quota is used up: the rest on 「继续」
            try:
                await self.push(entry.openid, part)
            except WechatError as exc:
                # 45015 past 48 h, 45047 over the quota, 48001 not authorised: logged, not
                # retried; what is left can still be asked for with 「继续」
                log.warning(
                    "%s push to a user stopped after %d of %d parts: %s",
                    self.channel,
                    sent,
                    len(entry.parts),
                    exc.message,
                )
                break
            sent += 1
            self.pushed += 1
        await anyio.to_thread.run_sync(self.ledger.sent, key, sent)

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("%s background work failed", self.channel)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- WeCom: the callback answers at once, the answer is sent -------------------------
    async def receive(self, msg: Message, key: str) -> None:
        """Handle a WeCom message in the background; its answer goes out through push."""
        self._spawn(self._receive(msg, key))

    async def _receive(self, msg: Message, key: str) -> None:
        assert self.push is not None
        if msg.msg_type == "event":
            reply = await self._event(msg)
            if reply.text:
                await self.push(msg.from_user, reply.text)
            return
        question = self._question(msg)
        if question is None:
            await self.push(msg.from_user, VOICE_UNHEARD if msg.msg_type == "voice" else TEXT_ONLY)
            return
        entry = await anyio.to_thread.run_sync(self.ledger.claim, key, msg.from_user)
        if not entry.own:
            return  # a retry: the first try answers
        await anyio.to_thread.run_sync(lambda: self.ledger.take(key, fallback="push"))
        await self._compute(key, msg.from_user, question)

    # --- events ------------------------------------------------------------------------------
    async def _event(self, msg: Message) -> Reply:
        event = (msg.event or "").lower()
        if event == "subscribe":
            return Reply(await anyio.to_thread.run_sync(self.welcome))
        if event == "unsubscribe":
            sessions = self.assistant.sessions
            session_id = sessions.id_for(f"{self.channel}:{msg.from_user}")
            await anyio.to_thread.run_sync(sessions.forget, session_id)
            await anyio.to_thread.run_sync(self.ledger.forget, self.channel, msg.from_user)
            return Reply()
        return Reply()

    def welcome(self) -> str:
        lines = [
            "您好，欢迎使用江岸企服助手！",
            "企业开办、项目审批、人才政策、办公空间、金融与投资扶持……直接发文字提问即可，"
            "回答会注明依据的文件。",
            "",
            "您可以这样问：",
        ]
        lines += [f"{n}. {q}" for n, q in enumerate(self.suggestions(), start=1)]
        lines += ["", f"找不到答案时，可拨打{self.assistant.settings.hotline}。"]
        return "\n".join(lines)

    def suggestions(self) -> list[str]:
        """Three questions to start with: the first entries staff wrote in the FAQ (never
        questions people asked — they may carry someone's details), topped up with the
        bundled examples; looked up once every 10 minutes."""
        at, cached = self._suggested
        if cached and time.monotonic() - at < SUGGEST_TTL_S:
            return cached
        picked: list[str] = []
        try:
            with self.assistant.index.database.read() as conn:
                rows = conn.execute(
                    select(faq_entries.c.question).order_by(faq_entries.c.id).limit(10)
                ).all()
            picked = [str(q).strip() for (q,) in rows if 4 <= len(str(q).strip()) <= 30][:3]
        except BotError:
            picked = []
        for q in DEFAULT_QUESTIONS:
            if len(picked) >= 3:
                break
            if q not in picked:
                picked.append(q)
        self._suggested = (time.monotonic(), picked[:3])
        return picked[:3]

    async def aclose(self, grace_s: float = 5.0) -> None:
        """At shutdown: answers being computed get `grace_s` to finish and be stored (and
        pushed); what is still running then is cancelled and stored as a failure."""
        running = [t for t in (*self._tasks.values(), *self._background) if not t.done()]
        if running:
            _, pending = await asyncio.wait(running, timeout=grace_s)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=2.0)
