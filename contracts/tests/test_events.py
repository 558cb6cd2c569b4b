from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ironclaw.contracts import events as ev
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.models import THEATER_NAME_PATTERN, RunSource

# Every character PostgreSQL can store: NUL is refused (see the last test).
STORABLE = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))

RUN_ID = new_id("run")
ORDER_ID = new_id("ord")


def _json_round_trip(event: ev.NewEvent) -> ev.NewEvent:
    return ev.NewEvent.model_validate(json.loads(event.model_dump_json()))


def _stored(event: ev.NewEvent, **overrides: object) -> ev.StoredEvent:
    fields: dict[str, object] = {
        **event.model_dump(mode="json"),
        "stream_id": RUN_ID,
        "version": 3,
        "position": 41,
        "recorded_at": datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    }
    return ev.StoredEvent.model_validate({**fields, **overrides})


# --- the vocabulary ---------------------------------------------------------------------------


def test_samples_cover_every_registered_event_type(
    sample_payloads: dict[str, ev.EventPayload],
) -> None:
    registered = {
        name
        for name, cls in ev.EventPayload.registry.items()
        if cls.__module__.startswith("ironclaw.contracts")
    }
    assert set(sample_payloads) == registered
    assert ev.event_types() == sorted(ev.event_types())
    assert registered <= set(ev.event_types())


def test_event_type_is_the_class_name(registered_type: str) -> None:
    cls = ev.event_class(registered_type)
    assert cls.__name__ == registered_type
    assert cls.event_type == registered_type


def test_every_event_type_round_trips_through_json(
    registered_type: str, sample_payloads: dict[str, ev.EventPayload]
) -> None:
    payload = sample_payloads[registered_type]
    event = ev.NewEvent.of(payload)

    parsed = _json_round_trip(event)

    assert parsed.type == registered_type
    assert parsed.id == event.id
    restored = parsed.payload()
    assert type(restored) is type(payload)
    assert restored == payload


def test_every_event_type_round_trips_as_a_stored_event(
    registered_type: str, sample_payloads: dict[str, ev.EventPayload]
) -> None:
    stored = _stored(ev.NewEvent.of(sample_payloads[registered_type]))

    parsed = ev.StoredEvent.model_validate(json.loads(stored.model_dump_json()))

    assert parsed == stored
    assert parsed.payload() == sample_payloads[registered_type]


def test_of_carries_metadata_and_makes_an_event_id() -> None:
    metadata = ev.EventMetadata(correlation_id=RUN_ID, causation_id=new_id("evt"), actor="co")
    event = ev.NewEvent.of(ev.RunIntegrating(run_id=RUN_ID), metadata=metadata)

    assert re.fullmatch(r"evt_[0-9a-z]{26}", event.id)
    assert event.metadata == metadata
    assert _json_round_trip(event).metadata == metadata
    assert ev.NewEvent.of(ev.RunIntegrating(run_id=RUN_ID)).id != event.id


def test_new_event_normalises_data_to_the_full_payload() -> None:
    event = ev.NewEvent(
        type="RunReceived", data={"run_id": RUN_ID, "theater": "default", "message": "hi"}
    )

    assert event.data["requested_orders"] == []
    assert event.data["source"] == {"kind": "chat", "reference": {}, "author": None}
    assert event.data == event.payload().model_dump(mode="json")


def test_new_event_refuses_an_id_that_is_not_an_event_id() -> None:
    with pytest.raises(ValidationError, match="id"):
        ev.NewEvent(id=new_id("run"), type="RunIntegrating", data={"run_id": RUN_ID})


# --- unknown types are refused loudly ---------------------------------------------------------


def test_new_event_with_unknown_type_is_refused_naming_the_type() -> None:
    with pytest.raises(ValidationError, match="Bogus"):
        ev.NewEvent(type="Bogus", data={})


def test_unknown_type_is_refused_when_parsing_json_too() -> None:
    with pytest.raises(ValidationError, match="unknown event type 'RunExploded'"):
        ev.NewEvent.model_validate({"type": "RunExploded", "data": {"run_id": RUN_ID}})


def test_event_class_raises_unknown_event_type() -> None:
    with pytest.raises(ev.UnknownEventType) as raised:
        ev.event_class("Bogus")
    assert raised.value.event_type == "Bogus"
    assert "Bogus" in str(raised.value)


def test_parse_payload_raises_unknown_event_type() -> None:
    with pytest.raises(ev.UnknownEventType):
        ev.parse_payload("runreceived", {"run_id": RUN_ID})


def test_data_that_does_not_fit_its_type_is_refused() -> None:
    with pytest.raises(ValidationError):
        ev.NewEvent(type="OrderIssued", data={"run_id": RUN_ID})


# --- payloads are frozen and strict -----------------------------------------------------------


def test_payloads_are_frozen(sample_payloads: dict[str, ev.EventPayload]) -> None:
    payload = sample_payloads["OrderIssued"]
    assert isinstance(payload, ev.OrderIssued)

    with pytest.raises(ValidationError, match="frozen"):
        payload.attempt = 3  # type: ignore[misc]
    assert payload.attempt == 2


def test_envelopes_are_frozen() -> None:
    event = ev.NewEvent.of(ev.RunIntegrating(run_id=RUN_ID))
    with pytest.raises(ValidationError, match="frozen"):
        event.type = "RunCompleted"  # type: ignore[misc]


def test_payloads_refuse_extra_fields(registered_type: str) -> None:
    # Every payload class refuses a field it does not declare, rather than dropping it.
    cls = ev.event_class(registered_type)
    with pytest.raises(ValidationError, match="extra"):
        cls.model_validate({"surprise": 1})


def test_extra_field_in_event_data_is_refused(
    sample_payloads: dict[str, ev.EventPayload],
) -> None:
    data = sample_payloads["OrderIssued"].model_dump(mode="json")
    with pytest.raises(ValidationError, match="surprise"):
        ev.NewEvent(type="OrderIssued", data={**data, "surprise": "x"})


def test_nested_values_refuse_extra_fields(sample_payloads: dict[str, ev.EventPayload]) -> None:
    data = sample_payloads["OrderCompleted"].model_dump(mode="json")
    data["aar"]["mood"] = "great"
    with pytest.raises(ValidationError, match="mood"):
        ev.NewEvent(type="OrderCompleted", data=data)


# --- invalid data ------------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", [0, -1])
def test_order_issued_attempt_must_be_positive(attempt: int) -> None:
    with pytest.raises(ValidationError, match="attempt"):
        ev.OrderIssued(order_id=ORDER_ID, run_id=RUN_ID, attempt=attempt)


@pytest.mark.parametrize(
    "theater", ["", "Default", "my theater", "-lead", "a/b", "../etc", "x" * 65, "default\n"]
)
def test_run_received_refuses_bad_theater_names(theater: str) -> None:
    with pytest.raises(ValidationError, match="theater"):
        ev.RunReceived(run_id=RUN_ID, theater=theater, message="hello")


@pytest.mark.parametrize("message", ["", "x" * 20_001])
def test_run_received_refuses_empty_or_huge_message(message: str) -> None:
    with pytest.raises(ValidationError, match="message"):
        ev.RunReceived(run_id=RUN_ID, theater="default", message=message)


def test_run_received_accepts_a_message_at_the_limit() -> None:
    payload = ev.RunReceived(run_id=RUN_ID, theater="default", message="x" * 20_000)
    assert len(payload.message) == 20_000


def test_order_planned_refuses_a_spec_for_another_order(
    sample_payloads: dict[str, ev.EventPayload],
) -> None:
    planned = sample_payloads["OrderPlanned"]
    assert isinstance(planned, ev.OrderPlanned)
    spec = planned.spec.model_copy(update={"order_id": new_id("ord")})

    with pytest.raises(ValidationError, match=r"spec\.order_id must equal order_id"):
        ev.OrderPlanned(order_id=ORDER_ID, run_id=RUN_ID, theater="default", spec=spec)


def test_run_planned_needs_at_least_one_order() -> None:
    with pytest.raises(ValidationError, match="orders"):
        ev.RunPlanned(run_id=RUN_ID, planner="mete", orders=[])


@pytest.mark.parametrize("progress", [-0.01, 1.01])
def test_signal_progress_is_a_fraction(progress: float) -> None:
    with pytest.raises(ValidationError, match="progress"):
        ev.SignalEmitted(order_id=ORDER_ID, attempt=1, progress=progress)


def test_recovery_reason_is_from_the_closed_list() -> None:
    with pytest.raises(ValidationError, match="reason"):
        ev.RecoveryRequired.model_validate({"order_id": ORDER_ID, "attempt": 1, "reason": "bored"})


def test_aar_outcome_and_schema_version_are_checked(
    sample_payloads: dict[str, ev.EventPayload],
) -> None:
    data = sample_payloads["OrderCompleted"].model_dump(mode="json")
    for field, value in (("outcome", "succeeded"), ("schema_version", 3)):
        broken = json.loads(json.dumps(data))
        broken["aar"][field] = value
        with pytest.raises(ValidationError, match=field):
            ev.NewEvent(type="OrderCompleted", data=broken)


def test_a_version_1_aar_still_reads(sample_payloads: dict[str, ev.EventPayload]) -> None:
    data = sample_payloads["OrderCompleted"].model_dump(mode="json")
    for added in ("engine", "profile", "artifacts"):
        data["aar"].pop(added)
    data["aar"]["schema_version"] = 1
    event = ev.NewEvent(type="OrderCompleted", data=data)
    assert event.data["aar"]["schema_version"] == 1


# --- stored events -----------------------------------------------------------------------------


def test_stored_event_carries_stream_version_and_position() -> None:
    event = ev.NewEvent.of(ev.RunIntegrating(run_id=RUN_ID))
    stored = _stored(event)

    assert (stored.stream_id, stored.version, stored.position) == (RUN_ID, 3, 41)
    assert stored.recorded_at == datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert stored.id == event.id
    assert stored.payload() == event.payload()
    dumped = json.loads(stored.model_dump_json())
    assert {"stream_id", "version", "position", "recorded_at"} <= set(dumped)


@pytest.mark.parametrize(
    ("field", "value"), [("version", 0), ("position", 0), ("stream_id", None), ("recorded_at", "x")]
)
def test_stored_event_refuses_bad_positions(field: str, value: object) -> None:
    event = ev.NewEvent.of(ev.RunIntegrating(run_id=RUN_ID))
    with pytest.raises(ValidationError, match=field):
        _stored(event, **{field: value})


def test_stored_event_validates_its_data_too() -> None:
    event = ev.NewEvent.of(ev.RunIntegrating(run_id=RUN_ID))
    with pytest.raises(ValidationError, match="Bogus"):
        _stored(event, type="Bogus")


def test_stream_names() -> None:
    assert ev.run_stream(RUN_ID) == RUN_ID
    assert ev.order_stream(ORDER_ID) == ORDER_ID
    assert ev.theater_stream("default") == "theater-default"
    assert ev.patrol_stream("global") == "patrol-global"
    for stream in (RUN_ID, ORDER_ID, "theater-default", "patrol-global"):
        assert re.fullmatch(ev.STREAM_ID_PATTERN, stream)


# --- properties ---------------------------------------------------------------------------------


@given(message=st.text(STORABLE, min_size=1, max_size=500))
def test_any_message_round_trips(message: str) -> None:
    payload = ev.RunReceived(run_id=RUN_ID, theater="default", message=message)

    restored = _json_round_trip(ev.NewEvent.of(payload)).payload()

    assert restored == payload
    assert isinstance(restored, ev.RunReceived)
    assert restored.message == message


@given(
    theater=st.from_regex(THEATER_NAME_PATTERN, fullmatch=True),
    reference=st.dictionaries(
        st.text(STORABLE, max_size=20), st.text(STORABLE, max_size=50), max_size=5
    ),
    author=st.none() | st.text(STORABLE, max_size=30),
)
def test_any_valid_theater_and_source_round_trip(
    theater: str, reference: dict[str, str], author: str | None
) -> None:
    payload = ev.RunReceived(
        run_id=RUN_ID,
        theater=theater,
        message="hi",
        source=RunSource(reference=reference, author=author),
    )
    assert _json_round_trip(ev.NewEvent.of(payload)).payload() == payload


@given(theater=st.text(max_size=70).filter(lambda s: not re.fullmatch(THEATER_NAME_PATTERN, s)))
def test_any_invalid_theater_is_refused(theater: str) -> None:
    with pytest.raises(ValidationError):
        ev.RunReceived(run_id=RUN_ID, theater=theater, message="hi")


@given(
    progress=st.none() | st.floats(min_value=0, max_value=1),
    note=st.text(STORABLE, max_size=200),
    tool_calls=st.integers(min_value=0, max_value=2**53),
)
def test_any_signal_round_trips(progress: float | None, note: str, tool_calls: int) -> None:
    payload = ev.SignalEmitted(
        order_id=ORDER_ID, attempt=1, progress=progress, note=note, tool_calls=tool_calls
    )
    assert _json_round_trip(ev.NewEvent.of(payload)).payload() == payload


@pytest.mark.parametrize("text", ["a\x00b", "\ud800"])
def test_event_data_that_cannot_be_stored_is_refused(text: str) -> None:
    payload = ev.RunReceived(
        run_id="run_x", theater="default", message="m", source=RunSource(reference={"k": text})
    )
    with pytest.raises(ValidationError, match="NUL"):
        ev.NewEvent.of(payload)
