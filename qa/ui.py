"""The Gradio browser chat: streaming answers, a sources panel, uploads and an `ask` API endpoint.

UI code only: every answer comes from `Assistant.stream`, every upload goes through the same
reader and index writer as the CLI. `main()` is `python app.py` / `qa-app`: loopback by default;
any other address (or a public share link) needs a login unless the operator says otherwise.
"""

from __future__ import annotations

import argparse
import html
import logging
import os
import re
import sys
from pathlib import Path

import gradio as gr

from qa.answering.answer import Answer
from qa.answering.assistant import Assistant
from qa.errors import QAError, SettingsError
from qa.ingest.readers import SUPPORTED_SUFFIXES, ReadResult, read_file
from qa.stores import IngestReport, index_names

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_FILES = 100  # per upload: one request cannot tie up the shared model for hours
EXAMPLES = [
    "Who is the Chinese foreign ministry spokeswoman?",
    "Who will Xi Jinping meet in Russia?",
    "What does China's plan for Ukraine try to protect?",
]

CSS = """
.qa-source { border-left: 4px solid #3b7dd8; padding: 6px 10px; margin: 8px 0;
  background: var(--block-background-fill); border-radius: 4px; }
.qa-source .qa-marker { display: inline-block; min-width: 1.8em; font-weight: 700;
  color: #fff; background: #3b7dd8; border-radius: 4px; text-align: center; margin-right: 6px; }
.qa-source .qa-meta { font-size: 0.85em; opacity: 0.8; }
.qa-source mark { background: #ffe58a; color: #111; padding: 0 2px; }
.qa-abstain { border-left: 4px solid #c77700; padding: 6px 10px; }
"""


def passage_html(assistant: Assistant, article_id: str, sentence_index: int) -> str:
    """The cited sentence highlighted between its neighbours, as in the article."""
    article = assistant.index.articles.get(article_id)
    if article is None:
        return ""
    first = max(0, sentence_index - 1)
    last = min(len(article.sentences) - 1, sentence_index + 1)
    parts = []
    for i in range(first, last + 1):
        text = html.escape(article.sentence(i))
        parts.append(f"<mark>{text}</mark>" if i == sentence_index else text)
    return " ".join(parts)


def sources_html(assistant: Assistant, answer: Answer) -> str:
    if answer.abstained:
        searched = "".join(f"<li>{html.escape(s)}</li>" for s in answer.searched[:5])
        return (
            "<div class='qa-abstain'><b>No indexed sentence answers this question.</b>"
            + (f"<p>Why: {html.escape(answer.reason)}.</p>" if answer.reason else "")
            + f"<p>Searched index <code>{html.escape(answer.index)}</code>; the closest sentences "
            f"found were:</p><ol>{searched or '<li>(nothing)</li>'}</ol></div>"
        )
    blocks = []
    for c in answer.citations:
        title = html.escape(c.title)
        source = html.escape(c.source)
        link = f"<a href='{source}' target='_blank'>{source}</a>" if c.source.startswith("http") else source
        dated = f" · {html.escape(c.published)}" if c.published else ""
        blocks.append(
            f"<div class='qa-source' id='source-{c.marker}'><span class='qa-marker'>{c.marker}</span>"
            f"<b>{title}</b><div class='qa-meta'>{link}{dated}</div>"
            f"<p>{passage_html(assistant, c.article_id, c.sentence_index)}</p></div>"
        )
    return "".join(blocks)


def context_html(answer: Answer) -> str:
    items = "".join(f"<li>{html.escape(s)}</li>" for s in answer.searched)
    return f"<ol>{items}</ol>" if items else "<p>(nothing retrieved)</p>"


def index_stats(assistant: Assistant) -> str:
    index, settings = assistant.index, assistant.settings
    model = assistant.generator.name if settings.llm_url else settings.model_path or "Gemma 3 270M (packaged)"
    return (
        f"**{index.name}**: {len(index.articles)} articles, {index.sentence_count} sentences, "
        f"{index.chunk_count} passages · model `{model}` · answer mode `{assistant.answer_mode}`"
    )


def _text_of(content: object) -> str:
    """Gradio may hand back message content as a string or a list of content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(_text_of(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    return str(content or "")


def upload_files(assistant: Assistant, files: list[str] | None, show_progress: bool = False) -> str:
    """Read each uploaded file with the ingest readers and add what is readable to the index."""
    if not files:
        return "No file chosen."
    if len(files) > MAX_UPLOAD_FILES:
        return (
            f"⚠️ {len(files)} files rejected: at most {MAX_UPLOAD_FILES} files per upload; nothing was added."
        )
    result = ReadResult()
    for file in files:
        path = Path(file if isinstance(file, str) else getattr(file, "name", str(file)))
        original = getattr(file, "orig_name", None) or path.name
        name = Path(original).name
        if name != original or ".." in Path(original).parts or name.startswith("."):
            result.skip(f"{original}: rejected, the file name contains a path; upload the file itself")
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            result.skip(f"{name}: rejected, unsupported type (use {', '.join(sorted(SUPPORTED_SUFFIXES))})")
            continue
        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            result.skip(
                f"{name}: rejected, {size / 2**20:.1f} MB is over the "
                f"{MAX_UPLOAD_BYTES // 2**20} MB upload limit"
            )
            continue
        read_file(path, result, display_name=f"upload:{name}")
    report = assistant.add(result, progress=show_progress) if result.articles else IngestReport.of(result)
    lines = [f"**Index `{assistant.index.name}`**: {report.summary()}"]
    lines += [f"- added: {t}" for t in report.added]
    lines += [f"- replaced: {t}" for t in report.replaced]
    lines += [f"- already indexed: {t}" for t in report.unchanged]
    lines += [f"- skipped (duplicate): {t}" for t in report.duplicates]
    lines += [f"- note: {t}" for t in report.notes]
    lines += [f"- ⚠️ {t}" for t in report.skipped]
    return "\n".join(lines)


def build_app(assistant: Assistant, read_only: bool = False) -> gr.Blocks:
    """The chat. `read_only` leaves out every control that changes shared state (uploads,
    the index everyone is answered from): those handlers are not even registered."""

    def respond(message: str, history: list, top_k: int, show_context: bool, since: str):
        history = list(history or [])
        previous = [_text_of(m["content"]) for m in history if m.get("role") == "user"]
        history.append({"role": "user", "content": message})
        try:
            stream = assistant.stream(message, previous[-1:] or None, top_k=int(top_k), since=since or None)
            history.append({"role": "assistant", "content": "…"})
            yield history, gr.update(), gr.update(), ""
            partial = ""
            for event in stream:
                if isinstance(event, Answer):
                    history[-1] = {"role": "assistant", "content": _linked(event.text)}
                    context = context_html(event) if show_context else ""
                    yield history, sources_html(assistant, event), context, ""
                else:
                    partial += event
                    history[-1] = {"role": "assistant", "content": f"{partial.strip()} ▌"}
                    yield history, gr.update(), gr.update(), ""
        except QAError as exc:
            if history[-1]["role"] == "assistant":
                history.pop()
            history.append({"role": "assistant", "content": f"⚠️ {exc}"})
            yield history, gr.update(), gr.update(), message

    def switch_index(name: str) -> tuple[str, list, str]:
        try:
            assistant.use_index(name)
        except QAError as exc:
            gr.Warning(str(exc))
        return index_stats(assistant), [], ""

    def api_ask(question: str, since: str = "") -> dict:
        """Answer a question from the current index (only articles published on or after
        `since`, YYYY-MM-DD, when given); returns Answer.to_dict()."""
        try:
            return assistant.ask(question, since=since or None).to_dict()
        except QAError as exc:
            raise gr.Error(str(exc)) from exc

    def do_upload(
        files: list | None,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008
    ) -> tuple[str, str, gr.Dropdown]:
        progress(0, desc="Reading and indexing…")
        message = upload_files(assistant, files, show_progress=True)
        return message, index_stats(assistant), gr.update(choices=index_names(assistant.settings))

    with gr.Blocks(title="News QA: answers with cited sentences") as demo:
        gr.Markdown(
            "## News QA\nAsk about the indexed news articles. Every answer cites the exact "
            "sentences it comes from; when they do not answer, the assistant says so."
        )
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=460, elem_id="chat")
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Ask a question about the articles…", show_label=False,
                        scale=5, elem_id="question", max_lines=4,
                    )  # fmt: skip
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                gr.Examples(EXAMPLES, inputs=box)
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML("<p>Citations appear here.</p>", elem_id="sources")
                with gr.Accordion("Retrieved context", open=False):
                    context = gr.HTML("", elem_id="context")
        with gr.Accordion("Index and settings", open=False):
            stats = gr.Markdown(index_stats(assistant), elem_id="index-stats")
            with gr.Row():
                if not read_only:
                    choice = gr.Dropdown(
                        index_names(assistant.settings), value=assistant.index.name,
                        label="Index to ask", interactive=True,
                    )  # fmt: skip
                top_k = gr.Slider(1, 20, value=assistant.settings.top_k, step=1, label="Passages retrieved")
                show_context = gr.Checkbox(value=False, label="Show retrieved context")
                since = gr.Textbox(
                    label="Only articles published since", placeholder="YYYY-MM-DD (empty: all)",
                    max_lines=1, elem_id="since",
                )  # fmt: skip
            if not read_only:
                uploads = gr.File(
                    label=f"Add articles (.txt .md .html .jsonl, up to {MAX_UPLOAD_BYTES // 2**20} MB each)",
                    file_count="multiple", elem_id="upload",
                )  # fmt: skip
                upload_status = gr.Markdown(elem_id="upload-status")

        inputs = [box, chat, top_k, show_context, since]
        outputs = [chat, sources, context, box]
        box.submit(respond, inputs, outputs, api_name=False)
        send.click(respond, inputs, outputs, api_name=False)
        if not read_only:
            choice.change(switch_index, choice, [stats, chat, sources], api_name=False)
            uploads.upload(do_upload, uploads, [upload_status, stats, choice], api_name=False)
        gr.api(api_ask, api_name="ask")
    # One in-process model answers one question at a time; a model server (QA_LLM_URL) schedules many.
    demo.queue(default_concurrency_limit=8 if assistant.settings.llm_url else 1, max_size=64)
    return demo


def _linked(text: str) -> str:
    """Markers in the chat link to their source in the panel."""
    return re.sub(r"\[(\d+)\]", r"[[\1]](#source-\1)", text)


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def parse_users(pairs: list[str], file: str | None) -> list[tuple[str, str]]:
    """USER:PASSWORD pairs from options, `QA_AUTH` (comma-separated) and a file (one per line)."""
    entries = list(pairs)
    entries += [p for p in os.environ.get("QA_AUTH", "").split(",") if p.strip()]
    if file:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise SettingsError(f"--auth-file {file}: cannot be read ({exc.strerror or exc})") from exc
        entries += [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    users = []
    for number, entry in enumerate(entries, start=1):
        user, sep, password = entry.strip().partition(":")
        if not sep or not user or not password:
            # Not echoed: an entry without ':' may be a bare password.
            raise SettingsError(f"Login {number} is not valid: expected USER:PASSWORD")
        users.append((user, password))
    return users


def check_exposure(host: str, share: bool, users: list, allow_anonymous: bool) -> None:
    """Anyone who can reach a non-loopback address (or a share link) could read and, unless
    read-only, change the index: refuse to serve that without a login or an explicit opt-out."""
    if (host in LOOPBACK and not share) or users or allow_anonymous:
        return
    where = "a public share link" if share else f"{host}"
    raise SettingsError(
        f"Refusing to serve on {where} without a login: pass --auth USER:PASSWORD (or set QA_AUTH, "
        "or --auth-file FILE with one USER:PASSWORD per line), or --allow-anonymous to let anyone "
        "who can reach it in."
    )


def launch(
    assistant: Assistant, host: str, port: int, share: bool,
    users: list[tuple[str, str]] | None = None, read_only: bool = False,
) -> None:  # fmt: skip
    demo = build_app(assistant, read_only=read_only)
    demo.launch(
        server_name=host, server_port=port, share=share, css=CSS,
        auth=users or None, auth_message="News QA: log in to ask questions.",
        max_file_size=MAX_UPLOAD_BYTES,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """`python app.py` / `qa-app`. Bad options or settings: one line and exit status 2."""
    parser = argparse.ArgumentParser(description="Browser chat over the indexed news articles.")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="create a public Gradio link")
    parser.add_argument("--index", default=None, help="index to ask (default: seeds)")
    parser.add_argument(
        "--auth",
        action="append",
        default=[],
        metavar="USER:PASSWORD",
        help="require this login (repeatable; also QA_AUTH=USER:PASSWORD,...)",
    )
    parser.add_argument("--auth-file", default=None, help="file of USER:PASSWORD lines")
    parser.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="serve a non-loopback address or share link without a login",
    )
    parser.add_argument(
        "--read-only", action="store_true", help="no uploads and no index switching: ask only"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        users = parse_users(args.auth, args.auth_file)
        check_exposure(args.host, args.share, users, args.allow_anonymous)
        assistant = Assistant(index=args.index)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    launch(assistant, args.host, args.port, args.share, users, args.read_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
