-- Review cases (issue 19, src/store/postgres/pg-case-store.ts): one case per (batch, subject) with
-- the reasons that opened it, its evidence lines and a lease-based claim; decisions append-only,
-- enforced here: a trigger refuses UPDATE, DELETE and TRUNCATE of decision rows, except the DELETE of
-- an erasure (`forget --subject`), which sets `rescreen.erasure` for its own transaction only.

CREATE TABLE cases (
  id             text PRIMARY KEY,
  seq            bigserial NOT NULL UNIQUE,
  batch          text NOT NULL,
  subject        text NOT NULL,
  reasons        text[] NOT NULL,
  lines          jsonb NOT NULL,
  opened_at      text NOT NULL,
  -- open | claimed | decided (a claimed case whose lease_until_ms passed counts as open).
  state          text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'claimed', 'decided')),
  claimed_by     text,
  lease_until_ms bigint,
  decision       text,
  decided_by     text,
  decided_at     text,
  decisions      integer NOT NULL DEFAULT 0,
  UNIQUE (batch, subject)
);
-- The queue (what `review next` and `review list` read first): cases not decided, oldest first.
CREATE INDEX cases_queue ON cases (seq) WHERE state <> 'decided';
CREATE INDEX cases_by_batch ON cases (batch, seq);
CREATE INDEX cases_by_subject ON cases (subject);

CREATE TABLE case_decisions (
  id        bigserial PRIMARY KEY,
  case_id   text NOT NULL,
  seq       integer NOT NULL,
  batch     text NOT NULL,
  subject   text NOT NULL,
  decision  text NOT NULL CHECK (decision IN ('confirmed-fraud', 'cleared', 'reverify', 'escalate')),
  note      text NOT NULL,
  reviewer  text NOT NULL,
  at        text NOT NULL,
  UNIQUE (case_id, seq)
);
CREATE INDEX case_decisions_by_subject ON case_decisions (subject);

CREATE FUNCTION refuse_decision_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('rescreen.erasure', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'decisions are append-only: % of a decision row is refused', TG_OP
    USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER case_decisions_append_only BEFORE UPDATE OR DELETE ON case_decisions
  FOR EACH ROW EXECUTE FUNCTION refuse_decision_change();
CREATE TRIGGER case_decisions_no_truncate BEFORE TRUNCATE ON case_decisions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_decision_change();

-- What an erasure leaves: when, and how much; no personal data.
CREATE TABLE erasures (
  id        bigserial PRIMARY KEY,
  at        text NOT NULL,
  records   integer NOT NULL,
  attempts  integer NOT NULL,
  cases     integer NOT NULL,
  decisions integer NOT NULL
);
