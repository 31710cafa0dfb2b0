-- Runs, their dedupe keys, and the indexes every Store operation relies on.
-- {{schema}} is replaced by the quoted schema name before this file runs.

CREATE TABLE {{schema}}.runs (
    -- Byte-order collation: ids sort as they were made (UUIDv7 is
    -- time-ordered) and compare fast.
    id               text        COLLATE "C" PRIMARY KEY,
    workflow         text        COLLATE "C" NOT NULL,
    workflow_version text        NOT NULL DEFAULT '',
    status           text        NOT NULL,
    due_at           timestamptz,
    lease_owner      text        NOT NULL DEFAULT '',
    lease_token      bigint      NOT NULL DEFAULT 0,
    lease_expires    timestamptz,
    claims           integer     NOT NULL DEFAULT 0,
    cancel_requested boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    started_at       timestamptz,
    finished_at      timestamptz,
    error            text        NOT NULL DEFAULT '',
    replay_of        text        NOT NULL DEFAULT '',
    dedupe_key       text        NOT NULL DEFAULT '',
    dedupe_until     timestamptz,
    -- json, not jsonb: jsonb refuses \u0000, which a webhook header or a
    -- step's output may legitimately contain.
    event            json        NOT NULL,
    steps            json        NOT NULL DEFAULT '[]',
    CONSTRAINT runs_status_check CHECK (status IN ('queued', 'running', 'retrying', 'succeeded', 'dead', 'canceled'))
);

-- Claim: oldest due first among claimable runs; also NextDue.
CREATE INDEX runs_claim_idx ON {{schema}}.runs (due_at, id)
    WHERE status IN ('queued', 'retrying');
-- Rescue: running runs whose lease expired.
CREATE INDEX runs_lease_idx ON {{schema}}.runs (lease_expires)
    WHERE status = 'running';
-- Per-workflow concurrency: running runs of one workflow.
CREATE INDEX runs_running_idx ON {{schema}}.runs (workflow)
    WHERE status = 'running';
-- List: newest first, overall and per workflow. A status filter walks
-- these (every index on runs costs each enqueue).
CREATE INDEX runs_list_idx ON {{schema}}.runs (created_at DESC, id DESC);
CREATE INDEX runs_list_workflow_idx ON {{schema}}.runs (workflow, created_at DESC, id DESC);
-- Purge: finished runs by age.
CREATE INDEX runs_finished_idx ON {{schema}}.runs (finished_at)
    WHERE finished_at IS NOT NULL;

-- The queue table is updated often: vacuum it sooner than the default 20%.
ALTER TABLE {{schema}}.runs SET (
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
);

-- One row per (workflow, key) seen within its dedupe window. Rows outlive
-- purged runs on purpose: a key stays a duplicate until "until".
CREATE TABLE {{schema}}.dedupe (
    workflow   text        COLLATE "C" NOT NULL,
    key        text        COLLATE "C" NOT NULL,
    run_id     text        NOT NULL,
    created_at timestamptz NOT NULL,  -- the first run's CreatedAt
    until      timestamptz NOT NULL,  -- duplicates are refused while created_at < until
    PRIMARY KEY (workflow, key)
);

CREATE INDEX dedupe_until_idx ON {{schema}}.dedupe (until);
