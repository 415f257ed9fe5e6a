-- Failed records by cause (issue 16: causes kept): each record's failure key — `<stoppedBy>:<code>`
-- of a `failed` record with an error (stoppedBy empty when it has none), src/store/records.ts
-- failureKey — and the batch's `failed:<key>` counts next to `status:<s>` and `verdict:<v>`, moved
-- by every put as those are.

ALTER TABLE records ADD COLUMN failure text;

-- The records already stored, and their batches' counts.
UPDATE records SET failure = COALESCE(record ->> 'stoppedBy', '') || ':' || (record -> 'error' ->> 'code')
 WHERE status = 'failed' AND (record -> 'error' ->> 'code') IS NOT NULL;
UPDATE batches b SET counts = b.counts || f.c
  FROM (SELECT batch, jsonb_object_agg('failed:' || failure, n) AS c
          FROM (SELECT batch, failure, COUNT(*)::int AS n FROM records WHERE failure IS NOT NULL GROUP BY batch, failure) g
         GROUP BY batch) f
 WHERE b.batch = f.batch;

-- put_record with the failure key (p_failure, NULL for none); otherwise as in 001.
CREATE FUNCTION put_record(
  p_batch text, p_line integer, p_record json, p_status text, p_verdict text, p_tx text,
  p_subject text, p_failure text, p_score bigint, p_now_ms bigint, p_now_iso text
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
    IF o.failure IS NOT NULL THEN c := bump(c, 'failed:' || o.failure, -1); END IF;
    IF o.transaction_id IS NOT NULL AND o.transaction_id IS DISTINCT FROM p_tx THEN
      DELETE FROM tx WHERE tx.transaction_id = o.transaction_id AND tx.batch = p_batch AND tx.line = p_line;
    END IF;
  END IF;
  c := bump(c, 'status:' || p_status, 1);
  IF p_verdict IS NOT NULL THEN c := bump(c, 'verdict:' || p_verdict, 1); END IF;
  IF p_failure IS NOT NULL THEN c := bump(c, 'failed:' || p_failure, 1); END IF;
  INSERT INTO records (batch, line, status, verdict, transaction_id, subject, subject_score, record, failure)
    VALUES (p_batch, p_line, p_status, p_verdict, p_tx, p_subject, p_score, p_record, p_failure)
    ON CONFLICT (batch, line) DO UPDATE SET status = EXCLUDED.status, verdict = EXCLUDED.verdict,
      transaction_id = EXCLUDED.transaction_id, subject = EXCLUDED.subject,
      subject_score = EXCLUDED.subject_score, record = EXCLUDED.record, failure = EXCLUDED.failure;
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

-- The put of a worker of the previous release, still running while the fleet upgrades: the same
-- write, its failure key read from the record itself.
CREATE OR REPLACE FUNCTION put_record(
  p_batch text, p_line integer, p_record json, p_status text, p_verdict text, p_tx text,
  p_subject text, p_score bigint, p_now_ms bigint, p_now_iso text
) RETURNS TABLE (created boolean, finished boolean) LANGUAGE sql AS $$
  SELECT * FROM put_record(p_batch, p_line, p_record, p_status, p_verdict, p_tx, p_subject,
    CASE WHEN p_status = 'failed' AND (p_record -> 'error' ->> 'code') IS NOT NULL
         THEN COALESCE(p_record ->> 'stoppedBy', '') || ':' || (p_record -> 'error' ->> 'code') END,
    p_score, p_now_ms, p_now_iso)
$$;
