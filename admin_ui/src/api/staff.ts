// Admins and support staff (the first 100 of each), support first: the audit log's "Who" (former
// staff too: they may have done what it lists) and a callback's hand-over (active ones only).
// One query under one key, so the two screens never read each other's narrower list.
import { useQuery } from "@tanstack/react-query";
import { keys } from "../queryKeys";
import { api, unwrap, type Schemas } from "./client";

type Staff = Schemas["AdminUserOut"];

async function everyone(): Promise<Staff[]> {
  const [admins, support] = await Promise.all(
    (["admin", "support"] as const).map((role) => unwrap(api.GET("/api/v1/admin/users", { params: { query: { role, limit: 100 } } }))),
  );
  return [...support.items, ...admins.items];
}

const active = (staff: Staff[]) => staff.filter((u) => u.is_active);

export function useStaff({ activeOnly = false }: { activeOnly?: boolean } = {}) {
  return useQuery({ queryKey: keys.staff, staleTime: 300_000, queryFn: everyone, select: activeOnly ? active : undefined });
}
