"""`ReadmissionCase`: one workflow per case, from opening to closing, on both sides.

Workflow id = case id (`<requesting>-<requested>-<year>-<six digits>`, e.g. `PL-UA-2027-000123`).
Commands arrive as the `execute` update, whose validator runs the decider's checks (`validate`)
against the current state so an invalid command is rejected before anything reaches history.
Before it, the case queue's workers have checked the API's signature on the request
(`adapters/temporal/command_check.py`); the validator then refuses an actor who may not act on
the command's side (`may_not_act`), and every command of a run started with a state of its own
when it is not its own continue-as-new (`CaseInput.state` is for carrying a case across runs).
An accepted command is decided by one call of the domain (`execute`: its events, deadlines
included, the state after them and the notices they cause), then one local activity,
`commit_case_events`, appends the events and the notices in one statement and plans the new
deadlines' reminders; only then does the update return. The workflow goes on from that
activity's recorded result, so a task retried after a worker died takes up what its first
attempt recorded instead of deciding twice. One durable timer, kept while the next alarm's
instant stays the same, reminds, escalates and expires limits; identity verification runs as
an activity on the requested state's queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import decider
    from domain.actions import closes_by_itself
    from domain.alarms import Alarm, ReminderPolicy, next_alarm
    from domain.commands import (
        BY_NAME,
        AcknowledgeEscalation,
        ApproveReply,
        AssignCase,
        ClaimCase,
        CloseCase,
        Command,
        DraftReply,
        ExpireLimit,
        OpenCase,
        RecordEscalation,
        RecordVerification,
        ReleaseCase,
        RepeatEscalation,
        ReturnReply,
        issued_by,
        personal_data_in_clear,
    )
    from domain.errors import DomainError
    from domain.escalations import next_repeat
    from domain.events import Event, PersonAmended
    from domain.federation import (
        crosses,
        expiry_grace,
        held_limits,
        opening_of,
        quiet_limits,
        side_of,
        submitted,
    )
    from domain.listing import CaseListing, listing_of
    from domain.reply_approval import as_sent
    from domain.state import CaseState, initial_state, is_terminal
    from domain.stored import NewEvent
    from domain.values import CURRENT_RULESET, LEGACY_RULESET, Side, Status
    from workflows.contracts import (
        COMMIT_EVENTS,
        DELIVERY_WORKFLOW,
        SYSTEM,
        VERIFY_IDENTITY,
        WORKFLOW_NAME,
        Actor,
        CaseInput,
        CaseOutcome,
        CaseView,
        CommandRequest,
        CommandResult,
        CommitInput,
        CommitResult,
        Delivered,
        DeliverInput,
        Exchange,
        MessageRef,
        Outgoing,
        RecordedEvent,
        VerifyIdentityInput,
        VerifyIdentityResult,
        cases_queue,
        state_queue,
    )
    from workflows.exchange import (
        node_actor,
        peer_refusal,
        queued,
        receiving_instant,
        settled,
    )
    from workflows.refused_attachment import drop_refused_file
    from workflows.search_attributes import SEARCH_ATTRIBUTES_PATCH, unset_next_due, updates

# `case-ruleset-<n>` marks a history whose case was opened under ruleset n (`domain.values`);
# a history without one (v0.2) replays under the first
RULESET_PATCH = "case-ruleset"
# marks a history whose case repeats the escalation of a limit that passed and still runs
# (`domain.escalations`); the v0.2 histories never armed such a timer
REPEATS_PATCH = "escalation-repeats"
FOREVER = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
VERIFICATION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1), maximum_attempts=5
)


ACTING_ROLES = ("officer", "supervisor")


def may_not_act(actor: Actor, command: Command, state: CaseState) -> str | None:
    """Why `actor` may not issue `command` on a case in `state`, or None if it may: officers
    and supervisors of the state on the command's side (the requesting state for the requesting
    side's commands, the requested for the requested's, the side it names for a command of
    either side), never auditors, administrators or the case's own clock. Of the assignment
    commands, only a supervisor assigns, and a claim or release is the actor's own (`by`).
    Whether the command fits the case is the decider's judgement, after."""
    if actor.role not in ACTING_ROLES:
        return f"a{'n' if actor.role[0] in 'aeiou' else ''} {actor.role} issues no case commands"
    terms = command.terms if isinstance(command, OpenCase) else state.terms
    if terms is None:
        return None  # no case yet: the decider refuses anything but an opening
    side = issued_by(command)
    party = terms.requesting if side is Side.REQUESTING else terms.requested
    if actor.state != party:
        return f"{command.command} is for the {side.value} state ({party})"
    if isinstance(command, AssignCase) and actor.role != "supervisor":
        return "a supervisor assigns a case; an officer claims it"
    if isinstance(command, ClaimCase | ReleaseCase | DraftReply) and command.by != actor.user_id:
        return f"{command.command} is the acting officer's own"
    if isinstance(command, ApproveReply | ReturnReply) and actor.role != "supervisor":
        return "a supervisor approves or returns a drafted reply"
    if isinstance(command, AcknowledgeEscalation):
        if actor.role != "supervisor":
            return "a supervisor acknowledges an escalation"
        if command.by != actor.user_id:
            return f"{command.command} is the acting supervisor's own"
    return None


def _domain_failure(error: DomainError) -> ApplicationError:
    return ApplicationError(
        error.message,
        {"rule": error.rule, "http_status": error.http_status},
        type=error.type,
        non_retryable=True,
    )


def _refused_start() -> ApplicationError:
    return ApplicationError(
        "a case workflow started with a state it did not carry over itself, or on a task queue "
        "that is not its own",
        {"http_status": 409},
        type="InvalidStart",
        non_retryable=True,
    )


def _own_queue(prefix: str) -> bool:
    """Whether the run serves the queue its input names: the input's `queue_prefix` says where
    the case sends identity checks (`state_queue`), so a start with a foreign prefix (anyone
    with the payload key may start a workflow) would route them to queues its sender polls.

    Every case the API or a continue-as-new starts is on `cases_queue(prefix)` of its own
    prefix (the v0.2 histories too), so the answer is always yes for them and replays the same.
    An offline `Replayer` runs every history on a queue of its own (`replay-<build id>`, never
    a cases queue, which ends in `-cases`): there the recorded start was checked already."""
    queue = workflow.info().task_queue
    offline = queue.startswith("replay-") and not queue.endswith("-cases")
    if offline and workflow.unsafe.is_replaying():
        return True
    return queue == cases_queue(prefix)


@workflow.defn(name=WORKFLOW_NAME)
class ReadmissionCase:
    @workflow.init
    def __init__(self, start: CaseInput) -> None:
        # The input is read here, not in `run`: with update-with-start the opening update is
        # handled before `run` begins.
        self.case_id = start.case_id
        # what a run carries over to the next comes only from the case's own continue-as-new:
        # a start bringing a state of its own (anyone may start a workflow) is refused
        carried = (
            start.state is not None
            or bool(start.reminders)
            or start.verification_pending
            or start.exchange != Exchange()
        )
        self.refused_start = (
            carried and workflow.info().continued_run_id is None
        ) or not _own_queue(start.queue_prefix)
        self.state: CaseState = start.state or initial_state()
        self.reminders: dict[str, tuple[Alarm, ...]] = dict(start.reminders)
        if self.refused_start:
            self.state, self.reminders = initial_state(), {}
        self.policy: ReminderPolicy = start.policy
        self.prefix = start.queue_prefix
        self.verification_pending = start.verification_pending and not self.refused_start
        self.history_limit = start.history_limit
        # a case shared with another node (docs/federation.md): its exchange of messages
        self.federation = start.federation
        self.exchange = Exchange() if self.refused_start else start.exchange
        self.delivering = False
        self.lock = asyncio.Lock()
        self.changed = False
        self.background: set[asyncio.Task[None]] = set()
        self.timer: asyncio.Task[None] | None = None
        self.armed_at: datetime | None = None
        # whether this run repeats escalations (`REPEATS_PATCH`), asked once, when first due
        self.repeating: bool | None = None
        # the search attributes last upserted by this run (`workflows.search_attributes`)
        self.listed: CaseListing | None = None

    # --- run --------------------------------------------------------------------------------

    @workflow.run
    async def run(self, start: CaseInput) -> CaseOutcome:
        if self.refused_start:
            raise _refused_start()
        if self.federation is not None and not self.state.opened:
            # started by a message whose opening the case then refused: nothing to keep open
            opened = self.state.opened or await self._opened_within(timedelta(minutes=10))
            if not opened:
                return CaseOutcome(case_id=self.case_id, status="not_opened", version=0)
        while True:
            if self.verification_pending and not self.lock.locked():
                self.verification_pending = False
                self._spawn(self._verify_identity())
            if self.exchange.outbox and not self.delivering:
                self.delivering = True
                self._spawn(self._deliver())
            if is_terminal(self.state):
                break
            if (
                self.state.ruleset >= 2
                and closes_by_itself(self.state)
                and await self._close_by_itself()
            ):
                continue
            # not while a message is on its way (its delivery may take days): the next moment
            if self._history_is_long() and not self.delivering:
                self._disarm()
                await self._continue_as_new()
            await self._next_moment()
        self._disarm()
        await self._settle()
        return CaseOutcome(
            case_id=self.case_id, status=self.state.status.value, version=self.state.version
        )

    async def _opened_within(self, wait: timedelta) -> bool:
        try:
            await workflow.wait_condition(lambda: self.state.opened, timeout=wait)
        except TimeoutError:
            await self._settle()
            return self.state.opened
        return True

    async def _next_moment(self) -> None:
        """Wait for a change (a command, finished background work) or the next alarm. The
        alarm's timer is kept while its instant stays the same, and replaced only when it
        moves: most commands leave the next alarm where it was."""
        alarm = self._next_alarm()
        if alarm is not None and alarm.at <= workflow.now():
            self._disarm()
            await self._fire(alarm)
            return
        at = None if alarm is None else alarm.at
        if at != self.armed_at:
            self._disarm()
            if alarm is not None:
                delay = alarm.at - workflow.now()
                self.timer = asyncio.create_task(workflow.sleep(delay, summary="next case alarm"))
                self.armed_at = at
        self.changed = False
        timer = self.timer
        await workflow.wait_condition(lambda: self.changed or (timer is not None and timer.done()))
        if timer is not None and timer.done():
            self.timer, self.armed_at = None, None
            due = self._next_alarm()
            if due is not None and due.at <= workflow.now():
                await self._fire(due)

    def _next_alarm(self, *, deciding: bool = True) -> Alarm | None:
        """The clock's next alarm, or the repeat of an escalation (`domain.escalations`) when it
        comes first; `deciding` false in a query, which may not mark the history."""
        alarm = self._next_deadline_alarm()
        quiet: frozenset[str] = frozenset()
        if self.federation is not None and self.state.terms is not None:
            quiet = quiet_limits(self.state, side_of(self.state, self.federation.node_state))
        every = timedelta(hours=self.policy.repeat_escalation_hours)
        repeat = next_repeat(self.state, every, quiet=quiet)
        if repeat is None or (alarm is not None and alarm.at <= repeat.at):
            return alarm
        if self.repeating is None and deciding:
            # asked only when a repeat would come first: a history recorded before repeats
            # existed reaches this point without the marker and replays as it ran
            self.repeating = workflow.patched(REPEATS_PATCH)
        return repeat if self.repeating else alarm

    def _next_deadline_alarm(self) -> Alarm | None:
        """The clock's next reminder, escalation or expiry; on a shared case, without the
        expiries the other node applies and with the clock-skew grace on those this node
        applies (`domain.federation`)."""
        now = workflow.now()
        if self.federation is None or self.state.terms is None:
            return next_alarm(self.state, self.reminders, now)
        own = side_of(self.state, self.federation.node_state)
        tolerance = timedelta(seconds=self.federation.clock_skew_seconds)
        held = held_limits(self.state, own)
        if any(m.kind == "command" for m in self.exchange.outbox):
            # a command on its way takes effect before any expiry here: both copies then
            # record them in one order (the expiry fires once the receipt is back)
            held = frozenset(self.state.open_limits)
        return next_alarm(
            self.state,
            self.reminders,
            now,
            held=held,
            quiet=quiet_limits(self.state, own),
            grace=expiry_grace(self.state, tolerance),
        )

    def _disarm(self) -> None:
        if self.timer is not None and not self.timer.done():
            self.timer.cancel()
        self.timer, self.armed_at = None, None

    def _history_is_long(self) -> bool:
        info = workflow.info()
        length = info.get_current_history_length()
        return info.is_continue_as_new_suggested() or length > self.history_limit

    async def _settle(self) -> None:
        """Let every handler and verification finish before the run ends."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        await workflow.wait_condition(lambda: not self.background)

    async def _continue_as_new(self) -> None:
        await self._settle()
        workflow.continue_as_new(
            CaseInput(
                case_id=self.case_id,
                state=self.state,
                reminders=self.reminders,
                verification_pending=self.verification_pending,
                policy=self.policy,
                queue_prefix=self.prefix,
                history_limit=self.history_limit,
                federation=self.federation,
                exchange=self.exchange,
            )
        )

    async def _fire(self, alarm: Alarm) -> None:
        command: Command
        if alarm.repeat is not None:
            command = RepeatEscalation(at=workflow.now(), limit=alarm.limit, repeat=alarm.repeat)
        elif alarm.level is None:
            command = ExpireLimit(at=workflow.now(), limit=alarm.limit)
        else:
            command = RecordEscalation(at=workflow.now(), limit=alarm.limit, level=alarm.level)
        try:
            result = await self._apply(command, SYSTEM)
        except ApplicationError as error:
            # the case moved on while the timer ran (e.g. a reply raced the expiry)
            workflow.logger.info("alarm for %s not applied: %s", alarm.limit, error.message)
        else:
            if self.federation is not None and alarm.level is None and submitted(self.state):
                # the waiting node applied the expiry: the bound node learns it as a consequence
                at = result.at or workflow.now()
                self._queue("consequence", command.model_copy(update={"at": at}))
        if (
            self.state.ruleset < 2  # from ruleset 2 on, `run` closes every case that is done
            and self.state.status is Status.TRANSFERRED
            and "readmission_in_error" not in self.state.open_limits
            and alarm.limit == "readmission_in_error"
        ):
            await self._apply(CloseCase(at=workflow.now()), SYSTEM)

    async def _close_by_itself(self) -> bool:
        """Close a case nothing more can happen to (`closes_by_itself`), as the case's clock:
        its retention period starts. False if the case refused (it then waits for a change)."""
        try:
            await self._apply(CloseCase(at=workflow.now()), SYSTEM)
        except ApplicationError as error:
            workflow.logger.info("case not closed by itself: %s", error.message)
            return False
        return True

    # --- the command path ------------------------------------------------------------------

    @workflow.update
    async def execute(self, request: CommandRequest) -> CommandResult:
        if request.peer is not None:
            return await self._receive(request)
        if self.federation is None:
            return await self._apply(request.command, request.actor, request.correlation_id)
        async with self.lock:
            if self.exchange.outbox:
                raise self._in_flight()  # another update queued one since this was validated
            # an approval crosses as the drafted reply itself, counted from this instant
            try:
                sent = as_sent(request.command, self.state)
            except DomainError as error:  # returned by another update since validated
                raise _domain_failure(error) from None
            request = request.model_copy(update={"command": sent})
            if crosses(request.command, self.state):
                return self._send(request)
            return await self._commit(request.command, request.actor, request.correlation_id)

    @execute.validator
    def check_execute(self, request: CommandRequest) -> None:
        if self.refused_start:
            raise _refused_start()
        if request.peer is not None:
            self._check_peer(request)
            return
        command = request.command
        if BY_NAME[command.command].side is Side.SYSTEM:
            raise ApplicationError(
                f"{command.command} is issued by the case's clock only",
                type="InvalidCommand",
                non_retryable=True,
            )
        if refusal := may_not_act(request.actor, command, self.state):
            raise ApplicationError(
                refusal, {"http_status": 403}, type="ActorMayNotAct", non_retryable=True
            )
        if isinstance(command, OpenCase) and command.case_id != workflow.info().workflow_id:
            raise ApplicationError(
                f"case id {command.case_id} differs from the workflow id",
                type="InvalidCommand",
                non_retryable=True,
            )
        if unsealed := personal_data_in_clear(command):
            raise ApplicationError(
                f"personal data must arrive sealed with the case key: {', '.join(unsealed)}",
                {"http_status": 422},
                type="PersonalDataNotSealed",
                non_retryable=True,
            )
        try:
            decider.validate(self._stamped(command), self.state)
        except DomainError as error:
            raise _domain_failure(error) from None
        if self.federation is not None and self.exchange.outbox:
            raise self._in_flight()

    def _in_flight(self) -> ApplicationError:
        """A shared case takes no officer's command while a message is on its way (drafts
        included: the submission may be carrying the case as it was)."""
        assert self.federation is not None
        return ApplicationError(
            f"a message to {self.federation.peer_state} is on its way: the case takes the next "
            "command once its receipt is back",
            {"http_status": 409},
            type="MessageInFlight",
            non_retryable=True,
        )

    def _check_peer(self, request: CommandRequest) -> None:
        refusal = peer_refusal(
            request,
            self.state,
            self.exchange,
            self.federation,
            workflow.now(),
            workflow.info().workflow_id,
        )
        if refusal is not None:
            raise ApplicationError(
                refusal.detail,
                {
                    "http_status": refusal.http_status,
                    "code": refusal.code,
                    "retryable": refusal.retryable,
                },
                type="PeerMessageRefused",
                non_retryable=True,
            )

    @staticmethod
    def _stamped(command: Command) -> Command:
        return command.model_copy(update={"at": workflow.now()})

    @staticmethod
    def _ruleset(command: Command) -> Command:
        """An opening runs under today's procedures; a case opened by v0.2 code replays under
        the first ruleset it was opened with (the recorded history has no marker)."""
        if not isinstance(command, OpenCase):
            return command
        ruleset = next(
            (
                n
                for n in range(CURRENT_RULESET, LEGACY_RULESET, -1)
                if workflow.patched(f"{RULESET_PATCH}-{n}")
            ),
            LEGACY_RULESET,
        )
        return command.model_copy(update={"ruleset": ruleset})

    async def _apply(
        self, command: Command, actor: Actor, correlation_id: str | None = None
    ) -> CommandResult:
        async with self.lock:
            return await self._commit(command, actor, correlation_id)

    async def _commit(
        self,
        command: Command,
        actor: Actor,
        correlation_id: str | None = None,
        *,
        at: datetime | None = None,
        event_ids: Sequence[UUID] = (),
    ) -> CommandResult:
        """Decide `command` and record its events (the caller holds the lock), at `at` (a
        receipted instant, on a shared case) or now, naming them `event_ids` first (those the
        other node recorded) and fresh ids after."""
        stamp = self._stamped if at is None else (lambda c: c.model_copy(update={"at": at}))
        command = self._ruleset(stamp(command))
        metadata = self._metadata(command, actor, correlation_id)
        names = [iter(event_ids)]

        def new_id() -> UUID:
            return next(names[0], None) or workflow.uuid4()

        while True:
            names[0] = iter(event_ids)  # each decision names its events alike
            try:
                # the validator judged the rules that count working days: not again on replay
                decision = decider.execute(command, self.state, new_id, admitted=True)
            except DomainError as error:
                raise _domain_failure(error) from None
            events = zip(decision.event_ids, decision.events, strict=True)
            result = await workflow.execute_local_activity(
                COMMIT_EVENTS,
                CommitInput(
                    case_id=self.case_id,
                    expected_version=self.state.version,
                    events=tuple(NewEvent.of(i, e, metadata) for i, e in events),
                    notices=decision.notices,
                    policy=self.policy,
                ),
                result_type=CommitResult,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=FOREVER,
            )
            if not result.recorded:
                # as recorded: a replay may have decided other deadlines (newer calendars)
                taken = decider.with_recorded_deadlines(decision, result.deadlines, self.state)
                return self._take(taken.event_ids, taken.events, taken.state, result)
            # an earlier attempt of this task recorded first (see `CommitResult`)
            after = decider.fold(result.recorded, self.state)
            if not result.superseded:
                return self._take(result.event_ids, result.recorded, after, result)
            self.state = after  # another update's events: decide this command on top of them
            self.reminders.update(result.reminders)
            self.changed = True
            command = stamp(command)

    def _metadata(
        self, command: Command, actor: Actor, correlation_id: str | None
    ) -> dict[str, str | None]:
        """Who and what caused the command's events, stored with each of them."""
        info = workflow.info()
        update = workflow.current_update_info()
        return {
            "actor": actor.user_id,
            "actor_state": actor.state,
            "actor_role": actor.role,
            "command": command.command,
            "correlation_id": correlation_id,
            "causation_id": update.id if update else None,
            "workflow_id": info.workflow_id,
            "run_id": info.run_id,
        }

    def _take(
        self,
        event_ids: Sequence[UUID],
        events: Sequence[Event],
        state: CaseState,
        result: CommitResult,
    ) -> CommandResult:
        """Go on from the recorded `events` (`state` is the state after them)."""
        first_version = self.state.version + 1
        # the requested state verifies, against its own registry: on a shared case, only on its
        # own node (the other node has no worker for that state's queue)
        verifies = self.federation is None or (
            state.terms is not None and self.federation.node_state == state.terms.requested
        )
        if not verifies:
            pass
        elif (
            self.state.status is not Status.RECEIVED
            and state.status is Status.RECEIVED
            and not state.is_transit  # a transit is consented to, not a person verified
        ):
            self.verification_pending = True  # received: the requested state verifies
        elif state.status is Status.RECEIVED and any(isinstance(e, PersonAmended) for e in events):
            self.verification_pending = True  # the corrected person is verified again
        self.state = state
        self.reminders.update(result.reminders)
        self.changed = True
        self._list()
        return CommandResult(
            case_id=self.case_id,
            version=state.version,
            status=state.status.value,
            events=tuple(
                RecordedEvent(event_id=i, version=first_version + n, type=e.type, at=e.at)
                for n, (i, e) in enumerate(zip(event_ids, events, strict=True))
            ),
            at=events[0].at if events else None,
        )

    def _list(self) -> None:
        """Upsert the case's search attributes once its listing changed: after every decided
        batch of events, an alarm's included. Histories recorded before the marker (v0.2) upsert
        nothing and replay as they ran."""
        listing = listing_of(self.state)
        if listing is None or listing == self.listed:
            return
        if not workflow.patched(SEARCH_ATTRIBUTES_PATCH):
            return
        if self.listed is not None:
            was_due = self.listed.next_due is not None
        else:  # a run continued as new carries its predecessor's attributes
            was_due = workflow.info().continued_run_id is not None
        self.listed = listing
        workflow.upsert_search_attributes(updates(listing))
        if listing.next_due is None and was_due:
            unset_next_due()

    # --- the exchange with the other node (docs/federation.md) ---------------------------------

    def _send(self, request: CommandRequest) -> CommandResult:
        """Queue an officer's command for the other node (the caller holds the lock): it takes
        effect here once that node's receipt is back, at the instant the receipt names."""
        command = self._stamped(request.command)
        opening = None if submitted(self.state) else opening_of(self.state)
        message = self._queue("command", command, request.actor, opening)
        assert self.federation is not None
        return CommandResult(
            case_id=self.case_id,
            version=self.state.version,
            status=self.state.status.value,
            events=(),
            sending=MessageRef(
                message_id=message.message_id,
                seq=message.seq,
                recipient=self.federation.peer_state,
            ),
            at=command.at,
        )

    def _queue(
        self,
        kind: str,
        command: Command,
        actor: Actor = SYSTEM,
        opening: OpenCase | None = None,
    ) -> Outgoing:
        assert self.federation is not None
        message = Outgoing(
            message_id=workflow.uuid4(),
            seq=self.exchange.out_seq + 1,
            peer_seen=self.exchange.in_seq,
            kind="consequence" if kind == "consequence" else "command",
            command=command,
            actor=node_actor(self.federation.node_state) if kind == "consequence" else actor,
            sent_at=workflow.now(),
            opening=opening,
        )
        self.exchange = queued(self.exchange, message)
        self.changed = True
        return message

    async def _receive(self, request: CommandRequest) -> CommandResult:
        """Take a message from the other node (its checks passed in the validator): the case's
        opening first, on the submission; a consequence as the other node applied it; a command
        now, the instant its receipt will name."""
        peer = request.peer
        assert peer is not None
        async with self.lock:
            if peer.opening is not None and not self.state.opened:
                # at the requesting node's own instant: both copies open the same case
                opening = peer.opening
                await self._commit(opening, request.actor, request.correlation_id, at=opening.at)
            if peer.kind == "consequence":
                result = await self._commit(
                    request.command, request.actor, request.correlation_id, at=request.command.at
                )
            else:
                assert self.federation is not None
                at = receiving_instant(request, self.state, self.federation, workflow.now())
                result = await self._commit(
                    request.command, request.actor, request.correlation_id, at=at
                )
            self.exchange = self.exchange.model_copy(update={"in_seq": peer.seq})
            return result

    async def _deliver(self) -> None:
        """Deliver the queue in order, one message at a time, each by its own workflow (retried
        for days); then apply what the receipt says."""
        assert self.federation is not None
        try:
            while self.exchange.outbox:
                message = self.exchange.outbox[0]
                delivered = await workflow.execute_child_workflow(
                    DELIVERY_WORKFLOW,
                    DeliverInput(
                        case_id=self.case_id,
                        sender=self.federation.node_state,
                        recipient=self.federation.peer_state,
                        message=message,
                    ),
                    id=f"message-{message.message_id}",
                    task_queue=cases_queue(self.prefix),
                    result_type=Delivered,
                )
                if delivered.code == "undelivered":
                    # it may have arrived (its receipt lost): its number is not given to the
                    # next, and it is sent again, the same bytes, until its receipt comes back
                    workflow.logger.error(
                        "message %s: no receipt from %s; sending it again",
                        message.seq,
                        self.federation.peer_state,
                    )
                    continue
                async with self.lock:
                    await self._settle_message(message, delivered)
        finally:
            self.delivering = False

    async def _settle_message(self, message: Outgoing, delivered: Delivered) -> None:
        if delivered.outcome == "applied" and message.kind == "command":
            try:
                await self._commit(
                    message.command,
                    message.actor,
                    at=delivered.received_at,
                    event_ids=delivered.event_ids,
                )
            except ApplicationError as error:
                # the other node took what this one cannot: the copies differ (never by design)
                workflow.logger.error(
                    "receipted command not applied here: %s (%s)", error.type, error.message
                )
        elif delivered.outcome == "refused":
            workflow.logger.warning(
                "message %s refused by %s: %s", message.seq, delivered.code, delivered.detail
            )
            await drop_refused_file(self.case_id, message.command, self.state, self.prefix)
        self.exchange = settled(self.exchange, message, delivered)
        self.changed = True

    # --- background work -------------------------------------------------------------------

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self.background.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.background.discard(task)
        self.changed = True

    async def _verify_identity(self) -> None:
        state = self.state
        if state.terms is None or state.person is None or state.status is not Status.RECEIVED:
            return
        try:
            result = await workflow.execute_activity(
                VERIFY_IDENTITY,
                VerifyIdentityInput(
                    case_id=self.case_id,
                    state=state.terms.requested,
                    person=state.person,
                    evidence=state.evidence,
                    at=workflow.now(),
                ),
                result_type=VerifyIdentityResult,
                task_queue=state_queue(state.terms.requested, self.prefix),
                start_to_close_timeout=timedelta(minutes=5),
                heartbeat_timeout=timedelta(seconds=30),
                retry_policy=VERIFICATION_RETRY,
            )
        except ActivityError as error:
            workflow.logger.warning("identity verification failed: %s", error)
            return
        async with self.lock:
            if self.state.status is not Status.RECEIVED:
                return
            if self.state.ruleset >= 2 and self.state.verification != state.verification:
                # recorded meanwhile: this verification's own first attempt, taken up by another
                # update when a worker died (`CommitResult.superseded`), or an officer's
                return
            command = RecordVerification(at=workflow.now(), outcome=result.outcome)
            try:
                await self._commit(command, SYSTEM)
            except ApplicationError as error:
                workflow.logger.info("verification not recorded: %s", error.message)

    # --- queries ----------------------------------------------------------------------------

    @workflow.query
    def view(self) -> CaseView:
        return CaseView(
            state=self.state,
            reminders=self.reminders,
            next_alarm=self._next_alarm(deciding=False),
            exchange=self.exchange if self.federation is not None else None,
        )
