"""The engine's view of stored rows: messages and tool calls back as journal records."""

from __future__ import annotations

from orchestration.engine.ports import MessageRecord, ToolCallRecord
from orchestration.engine.types import Attempt, Timing, Usage
from orchestration.models import Message, ToolCall


def message_record_of(row: Message) -> MessageRecord:
    """The engine's view of a stored message."""
    return MessageRecord(
        key=row.journal_key,
        thread_key=row.thread.key if row.thread_id else "",
        participant=row.thread.participant if row.thread_id else row.sender,
        sender=row.sender,
        recipient=row.recipient,
        role=row.role,
        content=row.content,
        tool_calls=tuple(row.tool_calls or ()),
        tool_call_id=row.tool_call_id,
        model=row.model,
        server=row.server,
        done_reason=row.done_reason,
        usage=Usage(prompt_tokens=row.prompt_tokens, completion_tokens=row.completion_tokens),
        timing=Timing(
            queue_wait_ms=row.queue_wait_ms,
            load_ms=row.load_ms,
            prompt_eval_ms=row.prompt_eval_ms,
            generation_ms=row.generation_ms,
            total_ms=row.total_ms,
        ),
        attempts=tuple(Attempt(**a) for a in row.attempts or ()),
        estimated_prompt_tokens=row.estimated_prompt_tokens,
        truncation_suspected=row.truncation_suspected,
        original_content=row.original_content,
        review=row.review,
        withheld=tuple(row.withheld or ()),
        thread_label=row.thread.label if row.thread_id else "",
    )


def tool_call_record_of(row: ToolCall) -> ToolCallRecord:
    return ToolCallRecord(
        key=row.journal_key,
        call_id=row.call_id,
        name=row.name,
        arguments=row.arguments,
        status=row.status,
        result=row.result,
        error=row.error,
        repairs=tuple(row.repairs or ()),
        message_key=row.message.journal_key if row.message_id else "",
    )
