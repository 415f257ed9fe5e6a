-- What each batch actually ran with (issue 22: truthful settings): one row per distinct
-- configuration that answered calls of the batch (src/store/run-settings.ts), keyed by the hash of
-- its fields; the first writer's time stays. Dropped with the batch by `purge`.

CREATE TABLE run_settings (
  batch text NOT NULL,
  hash text NOT NULL,
  settings json NOT NULL,
  first_seen_at text NOT NULL,
  PRIMARY KEY (batch, hash)
);
