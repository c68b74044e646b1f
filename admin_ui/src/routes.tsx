import { lazy, Suspense, type ComponentType, type LazyExoticComponent } from "react";
import { createBrowserRouter, Navigate } from "react-router";
import type { Role } from "./api/session";
import { RequireRole, RequireSignIn } from "./auth/guards";
import { Shell } from "./components/Shell";
import { Loading, NotAllowed } from "./components/States";
import { SignInPage } from "./pages/SignInPage";

// Each screen is its own chunk, loaded when first opened: the sign-in page and the shell are all a
// cold start fetches.
function screen<K extends string>(
  load: () => Promise<Record<K, ComponentType>>,
  name: K,
): LazyExoticComponent<ComponentType> {
  return lazy(() => load().then((module) => ({ default: module[name] })));
}
const AuditPage = screen(() => import("./pages/AuditPage"), "AuditPage");
const CampaignsPage = screen(() => import("./pages/CampaignsPage"), "CampaignsPage");
const CategoriesPage = screen(() => import("./pages/catalog/CategoriesPage"), "CategoriesPage");
const PlanEditPage = screen(() => import("./pages/catalog/PlanEditPage"), "PlanEditPage");
const PlansPage = screen(() => import("./pages/catalog/PlansPage"), "PlansPage");
const CustomerPage = screen(() => import("./pages/customers/CustomerPage"), "CustomerPage");
const CustomersPage = screen(() => import("./pages/customers/CustomersPage"), "CustomersPage");
const DashboardPage = screen(() => import("./pages/DashboardPage"), "DashboardPage");
const DispatchPage = screen(() => import("./pages/dispatch/DispatchPage"), "DispatchPage");
const PaymentsPage = screen(() => import("./pages/PaymentsPage"), "PaymentsPage");
const PaymentPage = screen(() => import("./pages/payments/PaymentPage"), "PaymentPage");
const CallbackPage = screen(() => import("./pages/support/CallbackPage"), "CallbackPage");
const SupportPage = screen(() => import("./pages/support/SupportPage"), "SupportPage");
const ReportsPage = screen(() => import("./pages/ReportsPage"), "ReportsPage");
const RequestPage = screen(() => import("./pages/requests/RequestPage"), "RequestPage");
const RequestsPage = screen(() => import("./pages/requests/RequestsPage"), "RequestsPage");
const SearchPage = screen(() => import("./pages/SearchPage"), "SearchPage");
const TechnicianPage = screen(() => import("./pages/technicians/TechnicianPage"), "TechnicianPage");
const TechniciansPage = screen(() => import("./pages/technicians/TechniciansPage"), "TechniciansPage");

const ADMIN: Role[] = ["admin"];
const STAFF: Role[] = ["admin", "support"];

/** The screens, who may open them, and where the menu lists them. */
export const SCREENS = [
  { path: "/", label: "Dashboard", roles: STAFF, element: <DashboardPage /> },
  { path: "/dispatch", label: "Dispatch", roles: STAFF, element: <DispatchPage /> },
  { path: "/requests", label: "Service requests", roles: STAFF, element: <RequestsPage /> },
  { path: "/customers", label: "Customers", roles: STAFF, element: <CustomersPage /> },
  { path: "/support", label: "Support", roles: STAFF, element: <SupportPage /> },
  { path: "/payments", label: "Payments", roles: STAFF, element: <PaymentsPage /> },
  { path: "/technicians", label: "Technicians", roles: STAFF, element: <TechniciansPage /> },
  { path: "/plans", label: "Plans", roles: ADMIN, element: <PlansPage /> },
  { path: "/categories", label: "Categories", roles: ADMIN, element: <CategoriesPage /> },
  { path: "/campaigns", label: "Campaigns", roles: STAFF, element: <CampaignsPage /> },
  { path: "/reports", label: "Reports", roles: ADMIN, element: <ReportsPage /> },
  { path: "/audit", label: "Audit log", roles: ADMIN, element: <AuditPage /> },
] as const;

const INNER = [
  { path: "/requests/:id", roles: STAFF, element: <RequestPage /> },
  { path: "/customers/:id", roles: STAFF, element: <CustomerPage /> },
  { path: "/payments/:orderId", roles: STAFF, element: <PaymentPage /> },
  { path: "/support/callbacks/:id", roles: STAFF, element: <CallbackPage /> },
  { path: "/technicians/:id", roles: STAFF, element: <TechnicianPage /> },
  { path: "/search", roles: STAFF, element: <SearchPage /> },
  { path: "/plans/new", roles: ADMIN, element: <PlanEditPage /> },
  { path: "/plans/:id", roles: ADMIN, element: <PlanEditPage /> },
];

export const router = createBrowserRouter(
  [
    { path: "/signin", element: <SignInPage /> },
    {
      element: (
        <RequireSignIn>
          <Shell />
        </RequireSignIn>
      ),
      children: [
        ...[...SCREENS, ...INNER].map((s) => ({
          path: s.path,
          element: (
            <RequireRole roles={[...s.roles]}>
              <Suspense fallback={<Loading what="the screen" />}>{s.element}</Suspense>
            </RequireRole>
          ),
        })),
        { path: "/not-allowed", element: <NotAllowed /> },
        { path: "*", element: <Navigate to="/" replace /> },
      ],
    },
  ],
  { basename: "/admin" },
);
