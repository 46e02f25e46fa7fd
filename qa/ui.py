"""The Gradio browser chat: streaming answers, a sources panel, uploads and an `ask` API endpoint.

UI code only: every answer comes from `Assistant.stream`, every upload goes through the same
reader and index writer as the CLI.
"""

from __future__ import annotations

import html
import logging
import re
import tempfile
from pathlib import Path

import gradio as gr

from qa.answer import Answer
from qa.assistant import Assistant
from qa.errors import QAError
from qa.index import IngestReport, list_indexes
from qa.ingest import SUPPORTED_SUFFIXES, ReadResult, read_file

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
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
            f"<p>Searched index <code>{html.escape(answer.index)}</code>; the closest sentences "
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
    index = assistant.index
    return (
        f"**{index.name}**: {len(index.articles)} articles, {index.sentence_count} sentences, "
        f"{len(index.chunks)} passages · model `{assistant.settings.model_path or 'Gemma 3 270M (packaged)'}`"
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
    report = IngestReport(skipped=list(result.skipped))
    if result.articles:
        assistant.add_articles(result.articles, report, progress=show_progress)
    lines = [f"**Index `{assistant.index.name}`**: {report.summary()}"]
    lines += [f"- added: {t}" for t in report.added]
    lines += [f"- replaced: {t}" for t in report.replaced]
    lines += [f"- already indexed: {t}" for t in report.unchanged]
    lines += [f"- skipped (duplicate): {t}" for t in report.duplicates]
    lines += [f"- ⚠️ {t}" for t in report.skipped]
    return "\n".join(lines)


def build_app(assistant: Assistant) -> gr.Blocks:
    def respond(message: str, history: list, top_k: int, show_context: bool):
        history = list(history or [])
        previous = [_text_of(m["content"]) for m in history if m.get("role") == "user"]
        history.append({"role": "user", "content": message})
        try:
            stream = assistant.stream(message, previous[-1:] or None, top_k=int(top_k))
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

    def api_ask(question: str) -> dict:
        """Answer a question from the current index; returns Answer.to_dict()."""
        try:
            return assistant.ask(question).to_dict()
        except QAError as exc:
            raise gr.Error(str(exc)) from exc

    def do_upload(
        files: list | None,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008
    ) -> tuple[str, str, gr.Dropdown]:
        progress(0, desc="Reading and indexing…")
        message = upload_files(assistant, files, show_progress=True)
        return message, index_stats(assistant), gr.update(choices=list_indexes(assistant.settings.index_dir))

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
                choice = gr.Dropdown(
                    list_indexes(assistant.settings.index_dir), value=assistant.index.name,
                    label="Index to ask", interactive=True,
                )  # fmt: skip
                top_k = gr.Slider(1, 20, value=assistant.settings.top_k, step=1, label="Passages retrieved")
                show_context = gr.Checkbox(value=False, label="Show retrieved context")
            uploads = gr.File(
                label=f"Add articles (.txt .md .html .jsonl, up to {MAX_UPLOAD_BYTES // 2**20} MB each)",
                file_count="multiple", elem_id="upload",
            )  # fmt: skip
            upload_status = gr.Markdown(elem_id="upload-status")

        inputs = [box, chat, top_k, show_context]
        outputs = [chat, sources, context, box]
        box.submit(respond, inputs, outputs, api_name=False)
        send.click(respond, inputs, outputs, api_name=False)
        choice.change(switch_index, choice, [stats, chat, sources], api_name=False)
        uploads.upload(do_upload, uploads, [upload_status, stats, choice], api_name=False)
        gr.api(api_ask, api_name="ask")
    demo.queue(default_concurrency_limit=1, max_size=64)
    return demo


def _linked(text: str) -> str:
    """Markers in the chat link to their source in the panel."""
    return re.sub(r"\[(\d+)\]", r"[[\1]](#source-\1)", text)


def launch(assistant: Assistant, host: str, port: int, share: bool) -> None:
    demo = build_app(assistant)
    demo.launch(
        server_name=host, server_port=port, share=share, css=CSS,
        allowed_paths=[tempfile.gettempdir()],
    )  # fmt: skip
