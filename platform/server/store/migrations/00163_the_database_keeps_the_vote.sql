-- +goose Up
-- What the operator's re-tally reads is written only through the database owner's
-- functions (SECURITY DEFINER, which the serving role calls: store.GrantServing grants it
-- EXECUTE on these four and no write of proposals, proposal_electorate, ballots or
-- proposal_delegations but the columns an erasure and an application write), so a
-- compromised platform cannot forge a vote's times, its roll once open, its deadline or
-- its close (it may still cast a ballot as any member of a roll: the database cannot tell
-- the platform acting for a member from a forgery):
--   - open_proposal stamps created_at with the database's clock (governance_now(),
--     migration 162) and the deadline at least the rules' minimum voting period after
--     it, and draws the electorate itself from the members table as it stands;
--   - cast_ballot takes a ballot before the deadline only, of a member of the electorate
--     and a choice of the rules' model, one per member (a new one replaces it), stamped
--     with the database's clock;
--   - freeze_delegations and close_proposal close a proposal only at or after its deadline
--     (closed_at is the deadline) or, earlier, once every member of its electorate voted
--     (erased members aside; closed_at is the database's clock), freezing the delegations
--     in force at the deadline; the result is written once, at the close.
-- The title and body stay writable (an erasure wipes them), as do the application
-- columns (the operator's answer); an elector's class may only be wiped where it is not
-- a class of the vote (proposal_electorate_kept).

-- +goose StatementBegin
CREATE FUNCTION open_proposal(p_title text, p_body text, p_field text, p_value jsonb, p_created_by bigint, p_rules jsonb, p_hours bigint)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    at timestamptz := governance_now();
    minimum bigint := coalesce((p_rules->>'minimumVotingPeriodHours')::bigint, 0);
    opened bigint;
BEGIN
    IF p_rules IS NULL OR jsonb_typeof(p_rules) <> 'object' OR coalesce(p_rules->>'model', '') = '' THEN
        RAISE EXCEPTION 'a proposal opens under governance rules that name a model' USING ERRCODE = 'check_violation';
    END IF;
    IF p_hours IS NULL OR p_hours < minimum OR p_hours < 1 OR p_hours > 8760 THEN
        RAISE EXCEPTION 'a proposal''s voting period is between its rules'' minimum of % hours and 8760 hours', minimum
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO proposals (title, body, field, change_value, created_by, rules, created_at, deadline)
        VALUES (p_title, p_body, p_field, p_value, p_created_by, p_rules, at, at + make_interval(hours => p_hours::int))
        RETURNING proposals.id INTO opened;
    -- Who may vote (governance.Eligible): under multi-stakeholder every active member of
    -- one of the rules' classes; under the other models every active worker or staff.
    INSERT INTO proposal_electorate (proposal_id, member_id, stakeholder_class)
        SELECT opened, m.id, m.stakeholder_class FROM members m
        WHERE m.active AND m.erased_at IS NULL AND CASE WHEN p_rules->>'model' = 'multi-stakeholder'
            THEN m.stakeholder_class IN (SELECT c->>'name' FROM jsonb_array_elements(coalesce(p_rules->'stakeholderClasses', '[]')) c)
            ELSE m.roles && ARRAY['worker','staff']::text[] END;
    RETURN opened;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION cast_ballot(p_proposal bigint, p_member bigint, p_choice text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    at timestamptz := governance_now();
    p proposals%ROWTYPE;
BEGIN
    SELECT * INTO p FROM proposals WHERE proposals.id = p_proposal FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no proposal %', p_proposal USING ERRCODE = 'no_data_found';
    END IF;
    IF p.status <> 'open' OR (p.deadline IS NOT NULL AND at >= p.deadline) THEN
        RAISE EXCEPTION 'voting on proposal % is over', p_proposal USING ERRCODE = 'check_violation';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM proposal_electorate e WHERE e.proposal_id = p_proposal AND e.member_id = p_member)
        OR EXISTS (SELECT 1 FROM members m WHERE m.id = p_member AND m.erased_at IS NOT NULL) THEN
        RAISE EXCEPTION 'member % is not on the roll of proposal %', p_member, p_proposal USING ERRCODE = 'check_violation';
    END IF;
    IF p_choice IS NULL OR NOT p_choice = ANY (CASE WHEN p.rules IS NULL THEN ARRAY['yes','no','abstain','object']
            WHEN p.rules->>'model' = 'consent' THEN ARRAY['yes','abstain','object'] ELSE ARRAY['yes','no','abstain'] END) THEN
        RAISE EXCEPTION 'choice % is not one of proposal %''s model', p_choice, p_proposal USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO ballots (proposal_id, member_id, choice, cast_at) VALUES (p_proposal, p_member, p_choice, at)
        ON CONFLICT (proposal_id, member_id) DO UPDATE SET choice = EXCLUDED.choice, cast_at = EXCLUDED.cast_at;
END $$;
-- +goose StatementEnd

-- proposal_closing locks an open proposal for its close and says when it closes: at its
-- deadline once that passed, now (the database's clock) when every member of its
-- electorate voted before it (or for a proposal from before deadlines); it refuses
-- otherwise.
-- +goose StatementBegin
CREATE FUNCTION proposal_closing(p_proposal bigint) RETURNS timestamptz LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    at timestamptz := governance_now();
    p proposals%ROWTYPE;
BEGIN
    SELECT * INTO p FROM proposals WHERE proposals.id = p_proposal FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no proposal %', p_proposal USING ERRCODE = 'no_data_found';
    END IF;
    IF p.status <> 'open' THEN
        RAISE EXCEPTION 'proposal % is closed', p_proposal USING ERRCODE = 'check_violation';
    END IF;
    IF p.deadline IS NOT NULL AND at >= p.deadline THEN
        RETURN p.deadline;
    END IF;
    IF p.deadline IS NULL OR NOT EXISTS (SELECT 1 FROM proposal_electorate e WHERE e.proposal_id = p_proposal
            AND NOT EXISTS (SELECT 1 FROM ballots b WHERE b.proposal_id = e.proposal_id AND b.member_id = e.member_id AND b.cast_at < p.deadline)
            AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id = e.member_id AND m.erased_at IS NOT NULL)) THEN
        RETURN at;
    END IF;
    RAISE EXCEPTION 'proposal % closes at its deadline %: a member of its electorate has not voted', p_proposal, p.deadline
        USING ERRCODE = 'check_violation';
END $$;
-- +goose StatementEnd

-- freeze_delegations copies the delegations in force at the deadline of a proposal that
-- may close (those in force now for one from before deadlines) to its own, which its tally
-- reads; only once. p_delegate says whether a proposal from before its rules were
-- recorded follows the delegate model (the policy in force); one with rules follows them.
-- +goose StatementBegin
CREATE FUNCTION freeze_delegations(p_proposal bigint, p_delegate boolean)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM proposal_closing(p_proposal);
    IF EXISTS (SELECT 1 FROM proposal_delegations WHERE proposal_id = p_proposal)
        OR NOT EXISTS (SELECT 1 FROM proposals p WHERE p.id = p_proposal
            AND (p.rules->>'model' = 'delegate' OR (p.rules IS NULL AND p_delegate))) THEN
        RETURN;
    END IF;
    -- A close and a change of delegation take turns (proposals.LockDelegations).
    LOCK TABLE delegations IN SHARE MODE;
    INSERT INTO proposal_delegations (proposal_id, member_id, delegate_id)
        SELECT p.id, h.member_id, h.delegate_id FROM proposals p JOIN delegation_history h
            ON p.deadline IS NULL AND h.valid_until IS NULL
            OR h.valid_from < p.deadline AND (h.valid_until IS NULL OR h.valid_until >= p.deadline)
        WHERE p.id = p_proposal;
END $$;
-- +goose StatementEnd

-- close_proposal closes a proposal that may close (proposal_closing) with its result, and
-- returns when it closed; a passed change waits for the operator (application pending).
-- +goose StatementBegin
CREATE FUNCTION close_proposal(p_proposal bigint, p_result jsonb, p_passed boolean)
RETURNS timestamptz LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE at timestamptz := proposal_closing(p_proposal);
BEGIN
    UPDATE proposals SET status = 'closed', result = p_result, closed_at = at,
        application = CASE WHEN p_passed AND change_value IS NOT NULL THEN 'pending' ELSE '' END
        WHERE id = p_proposal;
    RETURN at;
END $$;
-- +goose StatementEnd

-- An elector's class may be wiped (an erasure) where it is not a class of the vote: under
-- another model than multi-stakeholder, of rules recorded. Nothing else of a roll changes.
-- +goose StatementBegin
CREATE FUNCTION proposal_electorate_kept() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF NEW.proposal_id <> OLD.proposal_id OR NEW.member_id <> OLD.member_id
        OR (NEW.stakeholder_class <> OLD.stakeholder_class AND (NEW.stakeholder_class <> ''
            OR NOT EXISTS (SELECT 1 FROM proposals p WHERE p.id = OLD.proposal_id AND p.rules IS NOT NULL
                AND p.rules->>'model' IS DISTINCT FROM 'multi-stakeholder'))) THEN
        RAISE EXCEPTION 'the roll of proposal % is fixed', OLD.proposal_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER proposal_electorate_kept BEFORE UPDATE ON proposal_electorate
    FOR EACH ROW EXECUTE FUNCTION proposal_electorate_kept();

REVOKE EXECUTE ON FUNCTION open_proposal(text, text, text, jsonb, bigint, jsonb, bigint), cast_ballot(bigint, bigint, text),
    proposal_closing(bigint), freeze_delegations(bigint, boolean), close_proposal(bigint, jsonb, boolean) FROM PUBLIC;

-- +goose Down
DROP TRIGGER proposal_electorate_kept ON proposal_electorate;
DROP FUNCTION proposal_electorate_kept(), close_proposal(bigint, jsonb, boolean), freeze_delegations(bigint, boolean),
    proposal_closing(bigint), cast_ballot(bigint, bigint, text), open_proposal(text, text, text, jsonb, bigint, jsonb, bigint);
