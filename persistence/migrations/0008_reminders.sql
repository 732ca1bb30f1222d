-- Reminders: overdue invoices and due follow-up tasks become notifications for the DJ (the
-- realtime hub pushes them once it lands). Triggers keep each row's durable timer in step with
-- the row, whatever code path changes it.

create table notifications (
  organization_id uuid not null references organizations (id) on delete cascade,
  id              uuid not null default gen_random_uuid(),
  kind            text not null,
  title           text not null,
  target_id       uuid,
  details         jsonb not null default '{}'::jsonb,
  read_at         timestamptz,
  created_at      timestamptz not null default now(),
  primary key (organization_id, id)
);
create index notifications_created_idx on notifications (organization_id, created_at desc, id);
alter table notifications enable row level security;
alter table notifications force row level security;
create policy org_isolation on notifications
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());

-- Arms (or re-arms) the row's timer of `p_kind` at `p_due`, or retires it when `p_due` is null.
create function sync_timer(p_org uuid, p_kind text, p_target uuid, p_due timestamptz)
  returns void
  language plpgsql
  as $$
begin
  if p_due is null then
    update timers set done_at = now()
     where organization_id = p_org and kind = p_kind and target_id = p_target and done_at is null;
  else
    insert into timers (organization_id, kind, target_id, due_at)
      values (p_org, p_kind, p_target, p_due)
      on conflict (organization_id, kind, target_id) do update
        set due_at = excluded.due_at, done_at = null, claimed_until = null, attempts = 0
      where timers.due_at is distinct from excluded.due_at or timers.done_at is not null;
  end if;
end $$;

-- A sent invoice becomes overdue when its due date has passed in the organization's timezone.
create function invoices_overdue_timer() returns trigger
  language plpgsql
  as $$
declare
  tz text;
begin
  select o.timezone into tz from organizations o where o.id = new.organization_id;
  perform sync_timer(new.organization_id, 'invoice_overdue', new.id,
    case when new.status = 'sent' and new.due_date is not null
         then (new.due_date + 1)::timestamp at time zone coalesce(tz, 'UTC') end);
  return new;
end $$;

create trigger invoices_overdue_timer after insert or update of status, due_date on invoices
  for each row execute function invoices_overdue_timer();

-- An open task with a due time reminds the DJ at that time.
create function tasks_reminder_timer() returns trigger
  language plpgsql
  as $$
begin
  perform sync_timer(new.organization_id, 'followup_reminder', new.id,
    case when not new.done then new.due_at end);
  return new;
end $$;

create trigger tasks_reminder_timer after insert or update of done, due_at on tasks
  for each row execute function tasks_reminder_timer();
