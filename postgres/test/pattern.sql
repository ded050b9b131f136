-- The multi-writer pattern of docs/postgres.md, as the three-server test
-- installs it on every server (postgres/test/three_servers.sh). The
-- server's replica id is the database setting app.replica.

CREATE EXTENSION crdt;

-- One row per (object key, replica); a row is written only by the server
-- whose replica it names, so no two servers ever write the same row.
CREATE TABLE items (
    key     text NOT NULL,
    replica text NOT NULL,
    state   crdt NOT NULL,
    PRIMARY KEY (key, replica)
);

-- Local writes to another server's rows are refused. (Rows arriving by
-- logical replication are applied with session_replication_role =
-- replica, where this ordinary trigger does not fire.)
CREATE FUNCTION items_own_rows_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.replica <> current_setting('app.replica') THEN
        RAISE EXCEPTION 'row (%, %) belongs to replica %, this server is %',
            NEW.key, NEW.replica, NEW.replica, current_setting('app.replica');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER items_own_rows_only BEFORE INSERT OR UPDATE ON items
    FOR EACH ROW EXECUTE FUNCTION items_own_rows_only();

-- The write path: lock this server's row of the key (so that two sessions
-- of one server never stamp two updates with the same dot), read the
-- merged state of all servers' rows, compute the update's delta against
-- it (a remove must see the adds it removes, wherever they came from),
-- and join the delta into this server's row. Returns the delta.
CREATE FUNCTION crdt_write(k text, type text, op text, arg text DEFAULT NULL,
                           n bigint DEFAULT 1) RETURNS crdt
LANGUAGE plpgsql AS $$
DECLARE
    me text := current_setting('app.replica');
    merged crdt;
    delta crdt;
BEGIN
    INSERT INTO items VALUES (k, me, crdt_new(type)) ON CONFLICT DO NOTHING;
    PERFORM 1 FROM items WHERE key = k AND replica = me FOR UPDATE;
    SELECT crdt_merge_agg(state) INTO merged FROM items WHERE key = k;
    delta := crdt_update_delta(merged, me, op, arg, n);
    UPDATE items SET state = crdt_merge(state, delta) WHERE key = k AND replica = me;
    RETURN delta;
END $$;

-- Reads: every replica's row of a key, merged.
CREATE VIEW merged AS
    SELECT key, crdt_merge_agg(state) AS state FROM items GROUP BY key;
