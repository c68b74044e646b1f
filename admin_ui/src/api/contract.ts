// Shapes of the issue-17 routes as the contract names them, for the screens that read them through
// `getJson` (dashboard, stream, reports). The generated schema is the truth where a route is in it;
// these keep only the fields the screens use, so added fields do not break them.

export type Amount = number | { amount_minor: number; currency: string } | { amount_minor: number; currency: string }[];

export interface Dashboard {
  as_of: string;
  time_zone: string;
  sales: { today: { count: number; amount: Amount }; month: { count: number; amount: Amount } };
  active_subscriptions: number;
  new_users: { today: number; month: number };
  requests: { open: number; escalated: number; overdue: number };
  series: { day: string; sales_count: number; sales_amount: Amount; new_users: number; requests_created: number }[];
}

export interface RevenueRow {
  key: string;
  label: string;
  orders: number;
  amount: Amount;
  refunds: Amount;
  net: Amount;
}

export interface Activity {
  new_users_by_day: { day: string; count: number }[] | Record<string, number>;
  requests_by_status: Record<string, number> | { status: string; count: number }[];
  time_to_assign: { p50_minutes: number | null; avg_minutes: number | null };
  time_to_complete: { p50_minutes: number | null; avg_minutes: number | null };
}

export interface DailyReport {
  day: string;
  created_at?: string;
  [key: string]: unknown;
}

export interface AuditEntry {
  id: string | number;
  at: string;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  reason: string | null;
  detail: unknown;
}

export interface PaymentRow {
  id?: string;
  order_id: string;
  customer?: { id: string; name: string | null; email: string | null; phone?: string | null } | null;
  customer_id?: string;
  customer_name?: string | null;
  amount_minor: number;
  currency: string;
  provider: string;
  method: string | null;
  status: string;
  at: string;
  refunded_minor?: number;
  refunded_amount_minor?: number;
  workflow_url?: string | null;
}

export interface PageOf<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
