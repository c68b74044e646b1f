import { createBrowserRouter, Navigate } from "react-router";
import type { Role } from "./api/session";
import { RequireRole, RequireSignIn } from "./auth/guards";
import { Shell } from "./components/Shell";
import { NotAllowed } from "./components/States";
import { AuditPage } from "./pages/AuditPage";
import { CampaignsPage } from "./pages/CampaignsPage";
import { CategoriesPage } from "./pages/catalog/CategoriesPage";
import { PlanEditPage } from "./pages/catalog/PlanEditPage";
import { PlansPage } from "./pages/catalog/PlansPage";
import { CustomerPage } from "./pages/customers/CustomerPage";
import { CustomersPage } from "./pages/customers/CustomersPage";
import { DashboardPage } from "./pages/DashboardPage";
import { PaymentsPage } from "./pages/PaymentsPage";
import { ReportsPage } from "./pages/ReportsPage";
import { RequestPage } from "./pages/requests/RequestPage";
import { RequestsPage } from "./pages/requests/RequestsPage";
import { SignInPage } from "./pages/SignInPage";
import { TechniciansPage } from "./pages/TechniciansPage";

const ADMIN: Role[] = ["admin"];
const STAFF: Role[] = ["admin", "support"];

/** The screens, who may open them, and where the menu lists them. */
export const SCREENS = [
  { path: "/", label: "Dashboard", roles: STAFF, element: <DashboardPage /> },
  { path: "/requests", label: "Service requests", roles: STAFF, element: <RequestsPage /> },
  { path: "/customers", label: "Customers", roles: STAFF, element: <CustomersPage /> },
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
          element: <RequireRole roles={[...s.roles]}>{s.element}</RequireRole>,
        })),
        { path: "/not-allowed", element: <NotAllowed /> },
        { path: "*", element: <Navigate to="/" replace /> },
      ],
    },
  ],
  { basename: "/admin" },
);
