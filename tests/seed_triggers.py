"""The four hand-written notify triggers of the seed articles, as SQL (for tests).

Each follows its article's shape: seed 000 sends a column as the payload on a fixed
channel; seed 001 sends {"operation", "record_id"} on article_changes and has a
per-user channel 'user_notifications_' || NEW.user_id; seed 002 sends
row_to_json(NEW); seed 003 (trigger-io) sends {"table", "operation", "data"} on
new_event from a function it attaches to every table.
"""

SEED_000 = """
CREATE TABLE my_table (id serial PRIMARY KEY, message text);
CREATE OR REPLACE FUNCTION my_trigger_function() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('channel_name', NEW.message);
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER my_trigger AFTER INSERT ON my_table
  FOR EACH ROW EXECUTE FUNCTION my_trigger_function();
"""

SEED_001 = """
CREATE TABLE "Article" (id serial PRIMARY KEY, title text);
CREATE OR REPLACE FUNCTION notify_article_change() RETURNS TRIGGER AS $$
DECLARE payload JSON;
BEGIN
  -- Construct a JSON payload with the operation type and record ID
  payload = json_build_object('operation', TG_OP, 'record_id', COALESCE(NEW.id, OLD.id));
  -- Send the notification on the 'article_changes' channel
  PERFORM pg_notify('article_changes', payload::text);
  RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER article_change_trigger AFTER INSERT OR UPDATE OR DELETE ON "Article"
  FOR EACH ROW EXECUTE FUNCTION notify_article_change();

CREATE TABLE "Notification" (id serial PRIMARY KEY, user_id int, message text,
                             notification_type text);
CREATE OR REPLACE FUNCTION notify_user_notification() RETURNS TRIGGER AS $$
DECLARE channel_name TEXT;
BEGIN
  -- Create a channel name like "user_notifications_42"
  channel_name := 'user_notifications_' || NEW.user_id;
  PERFORM pg_notify(
    channel_name,
    json_build_object('id', NEW.id, 'message', NEW.message,
                      'type', NEW.notification_type)::text
  );
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER user_notification_trigger AFTER INSERT ON "Notification"
  FOR EACH ROW EXECUTE FUNCTION notify_user_notification();
"""

SEED_002 = """
CREATE TABLE your_table (id serial PRIMARY KEY, body text);
CREATE OR REPLACE FUNCTION notify_trigger() RETURNS TRIGGER AS $$
BEGIN
  PERFORM pg_notify('record_changes', row_to_json(NEW)::text);
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER record_changes AFTER INSERT OR DELETE ON your_table
  FOR EACH ROW EXECUTE FUNCTION notify_trigger();
"""

SEED_003 = """
CREATE TABLE "User" (id serial PRIMARY KEY, name text);
CREATE TABLE "Book" (id serial PRIMARY KEY, title text, "authorId" int REFERENCES "User"(id));
CREATE OR REPLACE FUNCTION public.notify_changes() RETURNS TRIGGER LANGUAGE plpgsql
AS $FUNCTION$
DECLARE
  payload JSON;
BEGIN
  IF (TG_OP = 'DELETE') THEN
    payload := row_to_json(OLD);
  ELSE
    payload := row_to_json(NEW);
  END IF;
  PERFORM pg_notify('new_event',
    json_build_object('table', TG_TABLE_NAME, 'operation', TG_OP, 'data', payload)::text);
  RETURN NEW;
END;
$FUNCTION$;
DO $$
DECLARE table_rec RECORD;
BEGIN
  FOR table_rec IN SELECT tablename FROM pg_tables
                   WHERE schemaname = 'public' AND tablename IN ('User', 'Book')
  LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS notification_trigger ON %I', table_rec.tablename);
    EXECUTE format('CREATE TRIGGER notification_trigger AFTER INSERT OR UPDATE OR DELETE ON %I '
                   'FOR EACH ROW EXECUTE FUNCTION notify_changes()', table_rec.tablename);
  END LOOP;
END $$;
"""

ALL_SEEDS = SEED_000 + SEED_001 + SEED_002 + SEED_003

# (table, trigger) -> channels `list` must report for it
EXPECTED = {
    ("my_table", "my_trigger"): ["channel_name"],
    ("Article", "article_change_trigger"): ["article_changes"],
    ("Notification", "user_notification_trigger"): ["user_notifications_<user_id>"],
    ("your_table", "record_changes"): ["record_changes"],
    ("User", "notification_trigger"): ["new_event"],
    ("Book", "notification_trigger"): ["new_event"],
}
