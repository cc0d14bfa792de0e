import time
import pytest
from tests.inspector.scenes import long_run
from orchestration.models import Message
pytestmark = pytest.mark.django_db
def test_prof(alice_client):
    run = long_run(2000)
    for _ in range(4):
        t=time.process_time(); list(Message.objects.filter(conversation=run).defer("attempts", "tool_calls", "step_id", "created_at")); a=(time.process_time()-t)*1000
        t=time.process_time(); list(Message.objects.filter(conversation=run).values()); b=(time.process_time()-t)*1000
        t=time.process_time(); list(Message.objects.filter(conversation=run).values_list("id","seq","content")); c=(time.process_time()-t)*1000
        print(f"models {a:.0f} values {b:.0f} vl {c:.0f}")
