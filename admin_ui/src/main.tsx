import "@mantine/core/styles.css";
import "@mantine/dates/styles.css";
import "@mantine/notifications/styles.css";
import "@mantine/charts/styles.css";

import { MantineProvider } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider } from "react-router";
import { AuthProvider } from "./auth/AuthProvider";
import { setZone } from "./components/format";
import { router } from "./routes";
import { cssVariables, theme } from "./theme";

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      // A problem the server answered (4xx) will not change by asking again.
      retry: (count, error) => count < 2 && !((error as { status?: number }).status! < 500),
      staleTime: 10_000,
      refetchOnWindowFocus: false,
    },
  },
});

// The business's zone first: every time on every screen is shown in it.
async function start(): Promise<void> {
  try {
    const config = await fetch("/api/v1/app/config").then((r) => (r.ok ? r.json() : null));
    if (config?.time_zone) setZone(config.time_zone);
  } catch {
    // The API is down: the screens say so; times keep the default zone meanwhile.
  }
  render();
}

const render = () => createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={cssVariables}>
      <Notifications position="top-right" />
      <QueryClientProvider client={queries}>
        <AuthProvider>
          <RouterProvider router={router} />
        </AuthProvider>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);

void start();
