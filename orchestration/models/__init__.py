"""The rows of MMOS. The database is the system of record; these are its tables."""

from orchestration.models.conversations import (
    Conversation,
    ConversationDefaults,
    Escalation,
    Message,
    Thread,
    ToolCall,
)
from orchestration.models.prompts import PromptTemplate, PromptTemplateVersion
from orchestration.models.routing import RoutingRule
from orchestration.models.servers import Server, Specialist
from orchestration.models.steps import Step

__all__ = [
    "Conversation",
    "ConversationDefaults",
    "Escalation",
    "Message",
    "PromptTemplate",
    "PromptTemplateVersion",
    "RoutingRule",
    "Server",
    "Specialist",
    "Step",
    "Thread",
    "ToolCall",
]
