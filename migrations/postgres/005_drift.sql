-- Score drift (src/drift): each batch's score distributions per check, computed once it finished
-- and kept beside its summary (ResultStore.keepDistribution); dropped with the batch row.
ALTER TABLE batches ADD COLUMN distribution json;
