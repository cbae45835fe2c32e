"""Keeps moto's SQS fast with thousands of messages in a queue (the issuer bench's 5,000).

moto 5.2.5 answers as AWS does, but at a cost that grows with the queue:

- ReceiveMessage checks each message it returns against the retention period
  through ``get_queue_attributes``, which builds every queue attribute three
  times over, ApproximateNumberOfMessages and its siblings included: nine
  passes over the whole queue per message returned.
- SendMessage builds every attribute once per message to read
  ContentBasedDeduplication: three passes per message sent.
- Each pass reads the clock once per message it looks at.

With 5,000 messages waiting, one ReceiveMessage of 10 held the server (and
Python's lock, so every other request) for seconds, and sending them took
most of ten minutes. Here the retention check reads the queue's own
retention period, and the visible, not-visible and delayed counts read the
clock once per pass: the same answers, at a cost the bench can wait for.
"""

from moto.core.utils import unix_time, unix_time_millis
from moto.sqs.models import Message, Queue, SQSBackend


def _retained(self: SQSBackend, queue_name: str, message: Message) -> bool:
    queue = self.get_queue(queue_name)
    retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000  # type: ignore[operator]
    return retain_until > unix_time()


def _messages(self: Queue) -> list[Message]:
    now = unix_time_millis()
    return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]


def _not_visible(self: Queue) -> int:
    now = unix_time_millis()
    return sum(1 for m in self._messages if not now > m.visible_at)


def _delayed(self: Queue) -> int:
    now = unix_time_millis()
    return sum(1 for m in self._messages if now < m.delayed_until)


def install() -> None:
    SQSBackend.is_message_valid_based_on_retention_period = _retained  # type: ignore[method-assign]
    Queue.messages = property(_messages)  # type: ignore[assignment,method-assign]
    Queue.approximate_number_of_messages_not_visible = property(_not_visible)  # type: ignore[assignment,method-assign]
    Queue.approximate_number_of_messages_delayed = property(_delayed)  # type: ignore[assignment,method-assign]
