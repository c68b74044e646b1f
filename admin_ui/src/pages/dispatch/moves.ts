// The moves a dispatcher makes from the board: assign a waiting visit (a suggestion's button or a
// drop on a technician), start it, complete it. Each is the request's own route (a workflow
// update, refused at once with the reason); the board and the lists reload after.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";
import { clock } from "../../components/format";
import { keys } from "../../queryKeys";

export type Board = Schemas["Board"];
export type Visit = Schemas["BoardVisit"];
export type Row = Schemas["BoardTechnician"];

export function useMoves() {
  const queries = useQueryClient();
  const done = () => {
    void queries.invalidateQueries({ queryKey: keys.board.all });
    void queries.invalidateQueries({ queryKey: keys.requests.all });
  };
  const path = (id: string) => ({ params: { path: { request_id: id } } });
  const assign = useMutation({
    mutationFn: ({ visit, technicianId }: { visit: Visit; technicianId: string }) =>
      unwrap(api.POST("/api/v1/admin/service-requests/{request_id}/assign", { ...path(visit.id), body: { technician_id: technicianId } })),
    onSuccess: done,
  });
  const start = useMutation({
    mutationFn: (visit: Visit) => unwrap(api.POST("/api/v1/admin/service-requests/{request_id}/start", path(visit.id))),
    onSuccess: done,
  });
  const complete = useMutation({
    mutationFn: (visit: Visit) =>
      unwrap(api.POST("/api/v1/admin/service-requests/{request_id}/complete", { ...path(visit.id), body: { notes: null, parts_used: [] } })),
    onSuccess: done,
  });
  return { assign, start, complete, error: assign.error ?? start.error ?? complete.error };
}

export type Moves = ReturnType<typeof useMoves>;

/** `09:00–13:00 IST`: a stretch within one business day (its midnight end shown as 24:00). */
export function hours(start: string, end: string, dayEnd?: string): string {
  const [a] = clock(start).split(" ");
  const [b, label] = clock(end).split(" ");
  const until = dayEnd && Date.parse(end) >= Date.parse(dayEnd) ? "24:00" : b;
  return `${a}\u2013${until} ${label}`;
}
