"""One exception tree; the web layer maps it to HTTP, the CLIs to exit codes."""

from __future__ import annotations


class BotError(Exception):
    """Base of every error this project raises on purpose."""

    code = "bot_error"
    message_zh = "服务内部错误"

    def __init__(self, message: str, *, message_zh: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if message_zh is not None:
            self.message_zh = message_zh


class ConfigurationError(BotError):
    """A setting is missing or wrong (bad embedder spec, unreadable model dir)."""

    code = "configuration_error"
    message_zh = "配置错误"


class IngestError(BotError):
    """A file could not be read, parsed or indexed."""

    code = "ingest_error"
    message_zh = "文件无法导入"


class UnsupportedFormatError(IngestError):
    """The file's suffix is not one the ingest pipeline reads."""

    code = "unsupported_format"
    message_zh = "不支持的文件格式"


class IndexMismatchError(BotError):
    """The stored index was built with a different embedder than the configured one."""

    code = "index_mismatch"
    message_zh = "索引与当前向量模型不一致，请重新导入"


class VectorStoreBusyError(BotError):
    """The embedded Chroma directory is open for writing in another process (ingest, web):
    two writers would corrupt it, so the second stops at once."""

    code = "vectors_busy"
    message_zh = (
        "向量库正被另一个进程写入，请先停止该进程（或使用 BOT_CHROMA_URL 指向 Chroma 服务）"
    )


class RetrievalError(BotError):
    """Searching the index failed."""

    code = "retrieval_error"
    message_zh = "检索失败"


class GenerationError(BotError):
    """The language model could not produce a usable answer (timeout, HTTP error, empty)."""

    code = "generation_error"
    message_zh = "大模型暂时无法回答"


class AuthError(BotError):
    """No valid staff credentials (HTTP 401)."""

    code = "unauthorized"
    message_zh = "请先登录"


class ForbiddenError(BotError):
    """Valid credentials, but the role does not allow this (HTTP 403)."""

    code = "forbidden"
    message_zh = "当前账号没有权限执行此操作"


class ConflictError(BotError):
    """The request conflicts with the current state, e.g. an existing name (HTTP 409)."""

    code = "conflict"
    message_zh = "与现有数据冲突"


class DuplicateError(ConflictError):
    """The same thing exists already (an FAQ question asked twice): 409, code `duplicate`,
    so a client can tell it from an edit that raced another (`conflict`)."""

    code = "duplicate"
    message_zh = "已存在相同的内容"


class InvalidInputError(BotError):
    """A value supplied by a user is not acceptable (HTTP 422)."""

    code = "invalid_request"
    message_zh = "请求参数不正确"


class RateLimitedError(BotError):
    """Too many attempts; try again later (HTTP 429)."""

    code = "rate_limited"
    message_zh = "尝试次数过多，请稍后再试"

    def __init__(self, message: str, *, retry_after: int, message_zh: str | None = None) -> None:
        super().__init__(message, message_zh=message_zh)
        self.retry_after = retry_after


class OverloadedError(BotError):
    """More answers in progress than the server computes at once; try again (HTTP 503)."""

    code = "overloaded"
    message_zh = "当前咨询人数较多，请稍后再试"

    def __init__(self, message: str, *, retry_after: int, message_zh: str | None = None) -> None:
        super().__init__(message, message_zh=message_zh)
        self.retry_after = retry_after


class NotFoundError(BotError):
    """The thing asked for does not exist (HTTP 404)."""

    code = "not_found"
    message_zh = "找不到所请求的内容"


class TooLargeError(InvalidInputError):
    """An upload exceeds the size limit (HTTP 413)."""

    code = "too_large"
    message_zh = "文件过大"


class StorageError(BotError):
    """The server could not write to its own storage (disk full, read-only) (HTTP 507)."""

    code = "storage_error"
    message_zh = "服务器存储空间不足或不可写，请联系管理员"


class RecordsUnavailableError(StorageError):
    """The records file cannot take writes now (read-only, disk full, I/O error, locked too
    long): nothing was written; try again once it can (HTTP 503)."""

    code = "storage_unavailable"
    message_zh = "服务记录存储暂时不可写，请稍后再试"

    def __init__(
        self, message: str, *, retry_after: int = 5, message_zh: str | None = None
    ) -> None:
        super().__init__(message, message_zh=message_zh)
        self.retry_after = retry_after


class VectorsUnavailableError(BotError):
    """The vector store (a Chroma server) does not answer: changes to the knowledge base
    wait for it; questions are still answered from the loaded snapshot (HTTP 503)."""

    code = "vectors_unavailable"
    message_zh = "向量库暂时无法连接，文档更新请稍后再试（问答不受影响）"

    def __init__(
        self, message: str, *, retry_after: int = 10, message_zh: str | None = None
    ) -> None:
        super().__init__(message, message_zh=message_zh)
        self.retry_after = retry_after


class ShuttingDownError(BotError):
    """The server is draining before it stops; another replica, or this one restarted, will
    answer (HTTP 503)."""

    code = "shutting_down"
    message_zh = "服务正在重启，请稍后再试"

    def __init__(
        self, message: str, *, retry_after: int = 5, message_zh: str | None = None
    ) -> None:
        super().__init__(message, message_zh=message_zh)
        self.retry_after = retry_after
