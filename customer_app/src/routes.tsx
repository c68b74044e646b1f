// The app's screens, each its own chunk (loaded when first opened): the first screen (the
// catalog) costs only its own code.
import { lazy, Suspense, type ComponentType } from "react";
import { createBrowserRouter } from "react-router";
import { RequireAuth } from "./auth";
import { Loading } from "./ui";
import Home from "./pages/catalog/Home";

function page(load: () => Promise<{ default: ComponentType }>, signedIn = true) {
  const Page = lazy(load);
  const element = (
    <Suspense fallback={<Loading />}>
      <Page />
    </Suspense>
  );
  return signedIn ? <RequireAuth>{element}</RequireAuth> : element;
}

export const router = createBrowserRouter(
  [
    { path: "/", element: <Home /> },
    { path: "/plans/:slug", element: page(() => import("./pages/catalog/Plan"), false) },
    { path: "/sign-in", element: page(() => import("./pages/auth/SignIn"), false) },
    { path: "/sign-up", element: page(() => import("./pages/auth/SignUp"), false) },
    { path: "/verify", element: page(() => import("./pages/auth/Verify")) },
    { path: "/account", element: page(() => import("./pages/account/Account")) },
    { path: "/cart", element: page(() => import("./pages/buy/Cart")) },
    { path: "/orders", element: page(() => import("./pages/buy/Orders")) },
    { path: "/orders/:id", element: page(() => import("./pages/buy/Order")) },
    { path: "/my-plans", element: page(() => import("./pages/plans/MyPlans")) },
    { path: "/my-plans/:id", element: page(() => import("./pages/plans/Subscription")) },
    { path: "/visits", element: page(() => import("./pages/visits/Visits")) },
    { path: "/visits/new", element: page(() => import("./pages/visits/NewVisit")) },
    { path: "/visits/:id", element: page(() => import("./pages/visits/Visit")) },
    { path: "/inbox", element: page(() => import("./pages/inbox/Inbox")) },
    { path: "/settings/notifications", element: page(() => import("./pages/inbox/Preferences")) },
    { path: "/support", element: page(() => import("./pages/support/Support"), false) },
    { path: "/jobs", element: page(() => import("./pages/jobs/Jobs")) },
    { path: "/jobs/:id", element: page(() => import("./pages/jobs/Job")) },
    { path: "*", element: page(() => import("./pages/NotFound"), false) },
  ],
  { basename: "/app" },
);
