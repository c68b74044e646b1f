// Every TanStack Query key of the admin panel, built here and nowhere else. A key starts with its
// area ("plans", "requests", ...) and narrows from there, so invalidating an area's `all` refreshes
// every query of that area: an invalidation matches its queries by construction, never by two
// string literals agreeing. Two queries share a key only when they fetch the same thing.

type Filters = Readonly<Record<string, unknown>>;

export const keys = {
  dashboard: ["dashboard"] as const,
  search: (q: string) => ["search", q] as const,
  /** Admins and support staff, the former ones too (a screen filters what it offers). */
  staff: ["staff"] as const,
  timeZones: ["time-zones"] as const,
  audit: (query: Filters) => ["audit", query] as const,

  /** The public catalog's categories (what customers see). */
  publicCategories: ["catalog-categories"] as const,
  categories: {
    /** Every category (the admin list the forms pick from), and the area's prefix. */
    all: ["categories"] as const,
    shown: (shown: string) => ["categories", "admin", shown] as const,
  },
  plans: {
    all: ["plans"] as const,
    page: (status: string, page: number) => ["plans", "list", status, page] as const,
    /** The plans on sale (a campaign's choice), first 100. */
    onSale: ["plans", "list", "active"] as const,
    /** `undefined` while a new plan is written (the query waits, disabled). */
    one: (id: string | undefined) => ["plans", id] as const,
    versions: (id: string | undefined) => ["plans", id, "versions"] as const,
  },

  customers: {
    page: (q: string | null, page: number) => ["customers", q, page] as const,
    one: (id: string) => ["customers", id] as const,
    calls: (id: string) => ["customers", id, "calls"] as const,
    subscriptions: (id: string) => ["customers", id, "subscriptions"] as const,
    orders: (id: string) => ["customers", id, "orders"] as const,
    callbacks: (id: string) => ["customers", id, "callbacks"] as const,
    overview: (id: string) => ["customers", id, "overview"] as const,
  },
  payments: {
    all: ["payments"] as const,
    page: (query: Filters) => ["payments", query] as const,
    one: (orderId: string) => ["payments", "detail", orderId] as const,
  },

  requests: {
    all: ["requests"] as const,
    page: (filters: Filters) => ["requests", filters] as const,
    one: (id: string) => ["requests", id] as const,
    suggestions: (id: string) => ["requests", id, "suggestions"] as const,
  },
  board: {
    all: ["board"] as const,
    days: (date: string, days: number) => ["board", date, days] as const,
  },
  technicians: {
    all: ["technicians"] as const,
    page: (q: string | null, page: number) => ["technicians", "list", q, page] as const,
    /** The first 200, for a filter's choices. */
    choices: ["technicians", "choices"] as const,
    one: (id: string) => ["technicians", id] as const,
  },

  callbacks: {
    all: ["callbacks"] as const,
    page: (query: Filters) => ["callbacks", query] as const,
    one: (id: string) => ["callbacks", id] as const,
    history: (id: string) => ["callbacks", id, "history"] as const,
  },
  campaigns: {
    /** Every campaign (the list), and the area's prefix. */
    all: ["campaigns"] as const,
    message: (id: string) => ["campaigns", id, "message"] as const,
    audience: (id: string) => ["campaigns", id, "audience"] as const,
  },
  reports: {
    revenue: (params: Filters) => ["reports", "revenue", params] as const,
    activity: (period: Filters) => ["reports", "activity", period] as const,
    daily: ["reports", "daily"] as const,
  },
};
