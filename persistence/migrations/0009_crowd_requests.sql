-- TipJar crowd requests: song requests, shout-outs and tips that guests send from an org's
-- request page, and the DJ's live queue of them.
--
-- Queue order lives in queue_key (smaller plays earlier). A request entering the queue gets an
-- automatic key: paid priority first (more paid priority -> earlier), then the time it entered.
-- The DJ's manual move gives it the key halfway between its new neighbours (exact: numeric), so
-- it stays where it was put; later arrivals are placed by the rule around it. The organization
-- entity is the single writer of moves and status changes; the webhook path (payments) only
-- moves pending_payment -> queued, and this table's trigger keys it whatever path does that.

create table crowd_requests (
  organization_id uuid not null references organizations (id) on delete cascade,
  id              uuid not null default gen_random_uuid(),
  kind            text not null check (kind in ('song', 'shoutout', 'tip')),
  song_title      text check (length(song_title) between 1 and 200),
  artist          text check (length(artist) between 1 and 200),
  requester_name  text check (length(requester_name) between 1 and 100),
  message         text check (length(message) between 1 and 500),
  amount_cents    bigint not null check (amount_cents between 0 and 100000000),
  currency        text not null check (currency ~ '^[a-z]{3}$'),
  priority_tier   text check (length(priority_tier) between 1 and 40),
  priority_cents  bigint not null default 0 check (priority_cents >= 0
                                                  and priority_cents <= amount_cents),
  status          text not null check (status in ('pending_payment', 'queued', 'playing',
                                                  'played', 'skipped', 'cancelled')),
  payment_status  text not null check (payment_status in ('none', 'pending', 'authorized',
                                                          'paid', 'released', 'refunded')),
  payment_code    text not null check (payment_code ~ '^[A-Z0-9]{4,12}$'),
  requester_ip    text check (length(requester_ip) <= 100),
  requester_key   text not null check (length(requester_key) between 1 and 200),
  charge_on_play  boolean not null default false,
  queue_key       numeric,
  queued_at       timestamptz,
  stripe_checkout_session_id text,
  stripe_payment_intent_id   text,
  -- Same song, however it was typed: the repeat window compares these.
  song_key        text generated always as (
                    case when kind = 'song'
                         then lower(btrim(coalesce(song_title, ''))) || '|'
                              || lower(btrim(coalesce(artist, ''))) end) stored,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  version         bigint not null default 1,
  primary key (organization_id, id),
  check (kind <> 'song' or song_title is not null),
  check (kind <> 'shoutout' or message is not null)
);
create unique index crowd_requests_id_key on crowd_requests (id);
create unique index crowd_requests_payment_code_key on crowd_requests (organization_id, payment_code);
create index crowd_requests_queue_idx on crowd_requests (organization_id, queue_key, created_at, id)
  where status in ('queued', 'playing');
create index crowd_requests_created_idx on crowd_requests (organization_id, created_at, id);
create index crowd_requests_requester_idx on crowd_requests (organization_id, requester_key)
  where status in ('pending_payment', 'queued', 'playing');
create index crowd_requests_song_idx on crowd_requests (organization_id, song_key, created_at)
  where kind = 'song';
create trigger crowd_requests_touch before update on crowd_requests
  for each row execute function touch_row();

alter table crowd_requests enable row level security;
alter table crowd_requests force row level security;
create policy org_isolation on crowd_requests
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());

-- The automatic place of a request: paid priority in whole cents dominates (10^10 seconds is
-- beyond any epoch we will see), then the moment it entered the queue.
create function crowd_request_auto_key(p_priority_cents bigint, p_at timestamptz)
  returns numeric
  language sql immutable
  as $$ select (-p_priority_cents)::numeric * 10000000000 + extract(epoch from p_at)::numeric $$;

-- Keys a request when it first enters the queue, whichever code path moved it there.
create function crowd_requests_enqueue() returns trigger
  language plpgsql
  as $$
begin
  if new.status = 'queued' and new.queue_key is null then
    -- clock_timestamp, not now(): requests queued in one transaction still get distinct keys.
    new.queued_at := coalesce(new.queued_at, clock_timestamp());
    new.queue_key := crowd_request_auto_key(new.priority_cents, new.queued_at);
  end if;
  return new;
end $$;

create trigger crowd_requests_enqueue before insert or update of status on crowd_requests
  for each row execute function crowd_requests_enqueue();

-- Charge on play: a held (authorized) payment is captured when the request is played and
-- released when it is skipped or cancelled. The payments side runs these durable timers; the
-- timer is armed in the transaction that changed the status, once per request and kind.
create function crowd_requests_payment_timer() returns trigger
  language plpgsql
  as $$
declare
  timer_kind text;
begin
  if new.payment_status <> 'authorized' or new.status = old.status then
    return new;
  end if;
  timer_kind := case when new.status = 'played' then 'payment_capture'
                     when new.status in ('skipped', 'cancelled') then 'payment_release' end;
  if timer_kind is not null then
    insert into timers (organization_id, kind, target_id, due_at, payload)
      values (new.organization_id, timer_kind, new.id, now(),
              jsonb_build_object('crowd_request_id', new.id))
      on conflict (organization_id, kind, target_id) do nothing;
  end if;
  return new;
end $$;

create trigger crowd_requests_payment_timer after update of status on crowd_requests
  for each row execute function crowd_requests_payment_timer();

-- The guest's view of one request, by its id (the id is the guest's handle; no tenant needed).
-- Public fields only: never the requester's IP or key, nor Stripe ids. queue_position is the
-- place among the requests waiting to be played (1 = next), null when not waiting.
create function public_crowd_request(p_id uuid)
  returns table (id uuid, organization_id uuid, kind text, song_title text, artist text,
                 requester_name text, message text, amount_cents bigint, currency text,
                 priority_tier text, status text, payment_status text, payment_code text,
                 queue_position bigint, created_at timestamptz, updated_at timestamptz)
  language plpgsql stable security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
begin
  perform set_config('app.platform_admin', 'on', true);
  return query
    select r.id, r.organization_id, r.kind, r.song_title, r.artist, r.requester_name, r.message,
           r.amount_cents, r.currency, r.priority_tier, r.status, r.payment_status,
           r.payment_code,
           case when r.status = 'queued' then
             (select count(*) from crowd_requests q
               where q.organization_id = r.organization_id and q.status = 'queued'
                 and (q.queue_key, q.created_at, q.id) <= (r.queue_key, r.created_at, r.id))
           end,
           r.created_at, r.updated_at
      from crowd_requests r where r.id = p_id;
  perform set_config('app.platform_admin', caller_admin, true);
end $$;
