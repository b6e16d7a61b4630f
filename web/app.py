"""The FastAPI application factory; models and indexes load once in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from bot.assistant import Assistant
from bot.audit import AuditLog
from bot.config import Settings
from bot.staff import StaffStore
from bot.watch import KnowledgeWatcher
from ingest.faqbook import FaqBook
from ingest.library import DocumentLibrary
from web import metrics
from web.admission import Admission, AdmissionGate
from web.drain import Drain, DrainGate
from web.errors import install_error_handlers
from web.limits import BodyLimit, NoSniff
from web.observe import RequestObserver
from web.ratelimit import ChatRateLimit, LoginRateLimit
from web.routes import (
    admin,
    admin_documents,
    admin_faq,
    admin_insight,
    admin_policies,
    admin_safety,
    chat,
    health,
    pages,
    policies,
)
from web.wechat import channel as wechat_channels
from web.wechat import routes as wechat_routes

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    """Build the app. Pass an `Assistant` to share one across apps (tests), else one is built."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = assistant is None
        app.state.assistant = assistant or Assistant(settings)
        app.state.staff = StaffStore(app.state.assistant.index.database, settings.admin_token_hours)
        app.state.login_limiter = LoginRateLimit(redis_url=settings.redis_url)
        app.state.admission = Admission(
            settings.max_inflight, settings.max_queue, settings.queue_wait_ms
        )
        app.state.chat_rate_limit = ChatRateLimit(settings.chat_rate_limits, settings.redis_url)
        await app.state.chat_rate_limit.start()
        app.state.audit = AuditLog(app.state.assistant.index.database)
        app.state.library = DocumentLibrary(
            settings.data_dir,
            app.state.assistant.index,
            app.state.assistant.refresh,
            app.state.audit,
            max_bytes=settings.upload_max_mb * 1024 * 1024,
        )
        app.state.faq = FaqBook(
            app.state.assistant.index.database,
            app.state.assistant.index,
            app.state.assistant.refresh,
            app.state.audit,
        )
        # other processes and replicas change the knowledge base too: follow them
        app.state.watcher = KnowledgeWatcher(
            app.state.assistant.index.database,
            lambda: app.state.assistant.retriever.kb_version,
            app.state.assistant.refresh,
            settings.kb_poll_seconds,
        )
        app.state.watcher.start()
        app.state.wechat, app.state.wecom = wechat_channels.build(
            settings, app.state.assistant, app.state.admission
        )
        if app.state.wechat is not None:
            await app.state.wechat.start()
        if settings.admin_user and app.state.staff.ensure(
            settings.admin_user, settings.admin_password, "admin"
        ):
            log.info("created admin account %s from BOT_ADMIN_USER", settings.admin_user)
        try:
            yield
        finally:
            app.state.watcher.stop()
            for channel in (app.state.wechat, app.state.wecom):
                if channel is not None:
                    await channel.aclose()
            await app.state.chat_rate_limit.aclose()
            await app.state.login_limiter.aclose()
            if own:
                await app.state.assistant.aclose()

    app = FastAPI(
        title="江岸企服助手 API",
        description="Answers enterprise questions from the 江岸区 knowledge base, citing its sources.",
        version="0.1.0",
        lifespan=lifespan,
        # no automatic /path/ → /path redirect: Starlette builds it from the Host header
        # (Host: evil.example sent /admin/ to evil.example); the pages redirect relatively
        redirect_slashes=False,
        # the interactive docs load their JavaScript from a CDN without an integrity hash:
        # off unless asked for (BOT_API_DOCS); the schema itself is always at /openapi.json
        docs_url="/docs" if settings.api_docs else None,
        redoc_url="/redoc" if settings.api_docs else None,
    )
    app.state.settings = settings
    app.state.drain = Drain()
    # innermost: counts what the routes run (a stream until its end); its 503 gets CORS headers
    # a question past the queue is refused before its body is read (inside the drain's count)
    app.add_middleware(AdmissionGate)
    app.add_middleware(DrainGate, drain=app.state.drain)
    # Browsers may call the API from the allowed district sites, this server and localhost.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.origins,
        allow_origin_regex=r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?",
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        max_age=600,
    )
    # Up to ten files of the largest size per upload request; 1 MB is plenty for everything else.
    app.add_middleware(
        BodyLimit,
        limit=1024 * 1024,
        upload_limit=(10 * settings.upload_max_mb + 1) * 1024 * 1024,
    )
    app.add_middleware(NoSniff)
    app.add_middleware(RequestObserver)  # outermost: the id, log line and metrics of every response
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(chat.router)
    app.include_router(pages.router)
    app.include_router(admin.router)
    app.include_router(admin_documents.router)
    app.include_router(admin_faq.router)
    app.include_router(admin_insight.router)
    app.include_router(policies.router)
    app.include_router(admin_policies.router)
    app.include_router(admin_safety.router)
    app.include_router(metrics.router)
    app.include_router(wechat_routes.router)
    return app
