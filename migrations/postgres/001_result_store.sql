-- The result store (src/store/postgres/): batches, one record per (batch, line), the transaction-id
-- index, the attempt log and the per-line vendor call ledger. Applied by `rescreen db migrate`
-- (and at worker start) under an advisory lock, inside the schema of RESCREEN_STORE_URL.

CREATE TABLE batches (
  batch             text PRIMARY KEY,
  -- ISO 8601 and ms of the first beginBatch or put; NULL while only a finishBatch has been seen.
  created_at        text,
  created_ms        bigint,
  manifest          text,
  producer_done     boolean NOT NULL DEFAULT false,
  total             integer NOT NULL DEFAULT 0,
  max_line          integer NOT NULL DEFAULT 0,
  max_recorded_line integer NOT NULL DEFAULT 0,
  recorded          integer NOT NULL DEFAULT 0,
  -- `status:<s>` and `verdict:<v>` → count, as the Redis store's meta hash.
  counts            jsonb NOT NULL DEFAULT '{}'::jsonb,
  possibly_billed   integer NOT NULL DEFAULT 0,
  finished_at       text,
  finished_ms       bigint
);
CREATE INDEX batches_by_created ON batches (created_ms DESC, batch COLLATE "C" DESC) WHERE created_ms IS NOT NULL;
CREATE INDEX batches_by_finished ON batches (finished_ms) WHERE finished_ms IS NOT NULL;

CREATE TABLE records (
  batch          text NOT NULL REFERENCES batches (batch) ON DELETE CASCADE,
  line           integer NOT NULL,
  status         text NOT NULL,
  verdict        text,
  transaction_id text,
  subject        text,
  -- finishedAt in ms (the put's time when it does not parse): the subject list's order.
  subject_score  bigint NOT NULL,
  -- The record exactly as given (json keeps the text, key order included).
  record         json NOT NULL,
  PRIMARY KEY (batch, line)
);
CREATE INDEX records_by_subject ON records (subject, subject_score, batch COLLATE "C", line) WHERE subject IS NOT NULL;

-- transaction id → the record that last carried it (as long as it still does).
CREATE TABLE tx (
  transaction_id text PRIMARY KEY,
  batch          text NOT NULL,
  line           integer NOT NULL
);
CREATE INDEX tx_by_record ON tx (batch, line);

-- Append-only: one row per vendor call that got an HTTP answer.
CREATE TABLE attempts (
  id             bigserial PRIMARY KEY,
  batch          text NOT NULL,
  line           integer NOT NULL,
  subject        text,
  row            json NOT NULL,
  transaction_id text
);
CREATE INDEX attempts_by_line ON attempts (batch, line, id);
CREATE INDEX attempts_by_tx ON attempts (transaction_id) WHERE transaction_id IS NOT NULL;
CREATE INDEX attempts_by_subject ON attempts (subject) WHERE subject IS NOT NULL;

-- Vendor calls per line and run (RESCREEN_MAX_CALLS_PER_LINE), src/queues/call-budget.ts.
CREATE TABLE line_calls (
  batch           text NOT NULL,
  line_run        text NOT NULL,
  calls           integer NOT NULL DEFAULT 0,
  possibly_billed integer NOT NULL DEFAULT 0,
  PRIMARY KEY (batch, line_run)
);

CREATE FUNCTION bump(c jsonb, k text, d integer) RETURNS jsonb LANGUAGE sql IMMUTABLE AS
$$ SELECT c || jsonb_build_object(k, COALESCE((c ->> k)::integer, 0) + d) $$;

-- One put: the batch row is locked first, so every write of a batch (puts, finishBatch) is
-- serialised on it: concurrent puts of one line leave one record and counts that add up, and the
-- finished rule (types.ts isBatchFinished) holds for exactly one write.
CREATE FUNCTION put_record(
  p_batch text, p_line integer, p_record json, p_status text, p_verdict text, p_tx text,
  p_subject text, p_score bigint, p_now_ms bigint, p_now_iso text
) RETURNS TABLE (created boolean, finished boolean) LANGUAGE plpgsql AS $$
DECLARE
  b batches%ROWTYPE;
  o records%ROWTYPE;
  c jsonb;
  is_new boolean;
BEGIN
  INSERT INTO batches (batch, created_at, created_ms) VALUES (p_batch, p_now_iso, p_now_ms)
    ON CONFLICT (batch) DO NOTHING;
  SELECT * INTO b FROM batches WHERE batches.batch = p_batch FOR UPDATE;
  IF b.created_at IS NULL THEN
    b.created_at := p_now_iso;
    b.created_ms := p_now_ms;
  END IF;
  SELECT * INTO o FROM records WHERE records.batch = p_batch AND records.line = p_line;
  is_new := o.batch IS NULL;
  c := b.counts;
  IF NOT is_new THEN
    c := bump(c, 'status:' || o.status, -1);
    IF o.verdict IS NOT NULL THEN c := bump(c, 'verdict:' || o.verdict, -1); END IF;
    IF o.transaction_id IS NOT NULL AND o.transaction_id IS DISTINCT FROM p_tx THEN
      DELETE FROM tx WHERE tx.transaction_id = o.transaction_id AND tx.batch = p_batch AND tx.line = p_line;
    END IF;
  END IF;
  c := bump(c, 'status:' || p_status, 1);
  IF p_verdict IS NOT NULL THEN c := bump(c, 'verdict:' || p_verdict, 1); END IF;
  INSERT INTO records (batch, line, status, verdict, transaction_id, subject, subject_score, record)
    VALUES (p_batch, p_line, p_status, p_verdict, p_tx, p_subject, p_score, p_record)
    ON CONFLICT (batch, line) DO UPDATE SET status = EXCLUDED.status, verdict = EXCLUDED.verdict,
      transaction_id = EXCLUDED.transaction_id, subject = EXCLUDED.subject,
      subject_score = EXCLUDED.subject_score, record = EXCLUDED.record;
  IF p_tx IS NOT NULL THEN
    INSERT INTO tx (transaction_id, batch, line) VALUES (p_tx, p_batch, p_line)
      ON CONFLICT (transaction_id) DO UPDATE SET batch = EXCLUDED.batch, line = EXCLUDED.line;
  END IF;
  b.recorded := b.recorded + CASE WHEN is_new THEN 1 ELSE 0 END;
  finished := b.finished_at IS NULL AND b.producer_done AND b.total >= 0 AND b.recorded >= b.total;
  UPDATE batches SET counts = c, recorded = b.recorded, created_at = b.created_at, created_ms = b.created_ms,
      max_recorded_line = GREATEST(b.max_recorded_line, p_line),
      finished_at = CASE WHEN finished THEN p_now_iso ELSE b.finished_at END,
      finished_ms = CASE WHEN finished THEN p_now_ms ELSE b.finished_ms END
    WHERE batches.batch = p_batch;
  created := is_new;
  RETURN NEXT;
END $$;

-- The producer has read the whole manifest; true when that finished the batch.
CREATE FUNCTION finish_batch(p_batch text, p_total integer, p_max_line integer, p_now_ms bigint, p_now_iso text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  b batches%ROWTYPE;
  done boolean;
BEGIN
  INSERT INTO batches (batch) VALUES (p_batch) ON CONFLICT (batch) DO NOTHING;
  SELECT * INTO b FROM batches WHERE batches.batch = p_batch FOR UPDATE;
  done := b.finished_at IS NULL AND p_total >= 0 AND b.recorded >= p_total;
  UPDATE batches SET producer_done = true, total = p_total, max_line = p_max_line,
      finished_at = CASE WHEN done THEN p_now_iso ELSE b.finished_at END,
      finished_ms = CASE WHEN done THEN p_now_ms ELSE b.finished_ms END
    WHERE batches.batch = p_batch;
  RETURN done;
END $$;
