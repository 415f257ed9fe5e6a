-- Fraud rings (issue 20, src/store/postgres/pg-ring-store.ts): what may tie a subject to another
-- (its media and templates), the links found and the rings (connected components, kept by a
-- union-find: ring_members says which ring each linked subject is in).
CREATE TABLE ring_media (
  batch text NOT NULL,
  line integer NOT NULL,
  idx integer NOT NULL,
  subject text NOT NULL,
  sha256 text NOT NULL,
  entry jsonb NOT NULL,
  PRIMARY KEY (batch, line, idx)
);
CREATE INDEX ring_media_sha256 ON ring_media (sha256);
-- Multi-index hashing: the 128-bit key pHash‖dHash in 10 bands (src/store/rings.ts bandsOf). A pair
-- within the link rule agrees on at least one band, so near-neighbour search is 10 index look-ups
-- per key, never a scan of every pair. The primary key is the band index.
CREATE TABLE ring_media_bands (
  band smallint NOT NULL,
  value integer NOT NULL,
  batch text NOT NULL,
  line integer NOT NULL,
  idx integer NOT NULL,
  PRIMARY KEY (band, value, batch, line, idx)
);
CREATE TABLE ring_templates (
  template_id text NOT NULL,
  batch text NOT NULL,
  line integer NOT NULL,
  entry jsonb NOT NULL,
  PRIMARY KEY (template_id, batch, line)
);
CREATE TABLE rings (
  id text PRIMARY KEY,
  -- ISO 8601 text, compared byte-wise (COLLATE "C"): a locale's collation may skip punctuation.
  first_seen text COLLATE "C" NOT NULL,
  last_seen text COLLATE "C" NOT NULL
);
CREATE INDEX rings_first_seen ON rings (first_seen, id);
CREATE TABLE ring_members (
  subject text PRIMARY KEY,
  ring_id text NOT NULL
);
CREATE INDEX ring_members_ring ON ring_members (ring_id);
CREATE TABLE ring_links (
  kind text NOT NULL,
  a text NOT NULL,
  b text NOT NULL,
  ring_id text NOT NULL,
  link jsonb NOT NULL,
  PRIMARY KEY (kind, a, b)
);
CREATE INDEX ring_links_ring ON ring_links (ring_id);
