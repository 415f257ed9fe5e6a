-- The counts per state `review list` prints under its first page (src/store/postgres/pg-case-store.ts
-- countCases): an index-only scan of this narrow index, not a scan of the cases' wide rows (each
-- holds its evidence lines as jsonb: ~1 KB). bench/review-list.ts measures it over 10^5 cases.
CREATE INDEX cases_by_state ON cases (state, lease_until_ms);
