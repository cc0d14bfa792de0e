"""factory_boy factories for every row. Plain on purpose: each builds one valid row and nothing
more; tests set what they care about.

People follow the house convention: ``UserFactory(username="alice")``; ``OperatorFactory`` and
``AdminFactory`` put the user in the ``operators`` / ``admins`` group.
"""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from orchestration import models

PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password(PASSWORD)


class OperatorFactory(UserFactory):
    @factory.post_generation
    def operators_group(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.groups.add(Group.objects.get_or_create(name="operators")[0])


class AdminFactory(UserFactory):
    @factory.post_generation
    def admins_group(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.groups.add(Group.objects.get_or_create(name="admins")[0])


class ServerFactory(DjangoModelFactory):
    class Meta:
        model = models.Server
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"ollama{n:02d}")
    kind = models.Server.Kind.OLLAMA
    base_url = factory.Sequence(lambda n: f"http://127.0.0.1:{11434 + n}")
    parallel = 1


class SpecialistFactory(DjangoModelFactory):
    class Meta:
        model = models.Specialist
        django_get_or_create = ("role",)

    role = factory.Sequence(lambda n: f"role{n}")
    model = "qwen2.5-coder:7b"
    server = factory.SubFactory(ServerFactory)
    description = factory.LazyAttribute(lambda s: f"The {s.role} specialist.")


class RoutingRuleFactory(DjangoModelFactory):
    class Meta:
        model = models.RoutingRule

    order = factory.Sequence(lambda n: n + 1)
    condition = "task.complexity > 7"
    specialist = factory.SubFactory(SpecialistFactory)


class PromptTemplateFactory(DjangoModelFactory):
    class Meta:
        model = models.PromptTemplate
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"template.{n}")
    description = "A prompt template."


class PromptTemplateVersionFactory(DjangoModelFactory):
    class Meta:
        model = models.PromptTemplateVersion

    template = factory.SubFactory(PromptTemplateFactory)
    number = factory.Sequence(lambda n: n + 1)
    body = "You are a helpful assistant. Task: {task}"
    is_active = False


class ConversationFactory(DjangoModelFactory):
    class Meta:
        model = models.Conversation

    task = factory.Sequence(lambda n: f"Task number {n}: write a function.")
    created_by = factory.SubFactory(OperatorFactory)


class ThreadFactory(DjangoModelFactory):
    class Meta:
        model = models.Thread

    conversation = factory.SubFactory(ConversationFactory)
    key = factory.Sequence(lambda n: f"thread:{n}")
    participant = "arbiter"


class MessageFactory(DjangoModelFactory):
    """A message; ``seq`` defaults to the conversation's next one (and advances ``last_seq``)."""

    class Meta:
        model = models.Message

    conversation = factory.SubFactory(ConversationFactory)
    seq = factory.LazyAttribute(lambda m: _next_seq(m.conversation))
    journal_key = factory.Sequence(lambda n: f"message:{n}")
    sender = "arbiter"
    recipient = "coding"
    role = models.Message.Role.ASSISTANT
    content = "Please write the function."


class ToolCallFactory(DjangoModelFactory):
    class Meta:
        model = models.ToolCall

    conversation = factory.SubFactory(ConversationFactory)
    call_id = factory.Sequence(lambda n: f"call_{n}")
    journal_key = factory.Sequence(lambda n: f"tool_call:{n}")
    seq = factory.LazyAttribute(lambda t: _next_seq(t.conversation))
    name = "consult_coding_specialist"
    arguments = factory.LazyFunction(lambda: {"task": "Write the function."})
    status = models.ToolCall.Status.PROPOSED


class EscalationFactory(DjangoModelFactory):
    class Meta:
        model = models.Escalation

    conversation = factory.SubFactory(ConversationFactory)
    journal_key = factory.Sequence(lambda n: f"escalation:{n}")
    seq = factory.LazyAttribute(lambda e: _next_seq(e.conversation))
    kind = models.Escalation.Kind.QUESTION
    question = "Which language should the function be written in?"


class StepFactory(DjangoModelFactory):
    class Meta:
        model = models.Step

    conversation = factory.SubFactory(ConversationFactory)
    number = factory.Sequence(lambda n: n + 1)
    idempotency_key = factory.Sequence(lambda n: f"step:{n}")
    kind = "arbiter"


def _next_seq(conversation: models.Conversation) -> int:
    # Mirrors what the services do: every change the inspector shows takes the next seq.
    conversation.last_seq += 1
    models.Conversation.objects.filter(pk=conversation.pk).update(last_seq=conversation.last_seq)
    return conversation.last_seq
