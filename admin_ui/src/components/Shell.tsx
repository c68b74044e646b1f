// The frame of every signed-in screen: a menu of what the role may open, the user, sign out.
// On a tablet (< 992 px) the menu folds behind a burger; on a phone the header keeps only the
// burger, the name of the panel and Sign out (the role shows in the menu), so nothing spills.
// One search box finds customers, requests, orders and receipts: in the header at a desk, at the
// top of the menu on a phone.
import { AppShell, Badge, Burger, Button, Group, NavLink, ScrollArea, Stack, Text, TextInput } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useState } from "react";
import { NavLink as RouterLink, Outlet, useLocation, useNavigate, useSearchParams } from "react-router";
import { can, useAuth } from "../auth/AuthProvider";
import { SCREENS } from "../routes";

function SearchBox({ done, testId }: { done?: () => void; testId: string }) {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const location = useLocation();
  const [q, setQ] = useState(location.pathname === "/search" ? (params.get("q") ?? "") : "");
  return (
    <form
      role="search"
      aria-label="Everything"
      data-testid={testId}
      onSubmit={(e) => {
        e.preventDefault();
        if (!q.trim()) return;
        navigate(`/search?q=${encodeURIComponent(q.trim())}`);
        done?.();
      }}
    >
      <TextInput
        aria-label="Search customers, requests, orders and receipts"
        placeholder="Name, phone, R-1042, O-2077…"
        type="search"
        size="xs"
        value={q}
        onChange={(e) => setQ(e.currentTarget.value)}
        w={{ base: "100%", sm: 220, lg: 280 }}
      />
    </form>
  );
}

export function Shell() {
  const [opened, { toggle, close }] = useDisclosure();
  const { user, signOut } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const screens = SCREENS.filter((s) => can(user, ...s.roles));

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: "md", collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="sm">
            <Burger opened={opened} onClick={toggle} hiddenFrom="md" size="sm" aria-label="Menu" />
            <Text fw={700} truncate>
              HomePlans admin
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Group visibleFrom="sm">
              <SearchBox testId="search-desk" />
            </Group>
            <Text size="sm" c="dimmed" visibleFrom="lg" data-testid="signed-in-as">
              {user?.name ?? user?.email}
            </Text>
            {user?.roles.map((r) => (
              <Badge key={r} variant="outline" visibleFrom="lg">
                {r}
              </Badge>
            ))}
            <Button
              size="xs"
              variant="default"
              onClick={async () => {
                await signOut();
                navigate("/signin");
              }}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        <ScrollArea>
          <Stack hiddenFrom="sm" px="sm" pb="xs">
            <SearchBox testId="search-phone" done={close} />
          </Stack>
          <Group gap="xs" hiddenFrom="lg" px="sm" pb="xs">
            <Text size="sm">{user?.name ?? user?.email}</Text>
            {user?.roles.map((r) => (
              <Badge key={r} variant="outline">
                {r}
              </Badge>
            ))}
          </Group>
          <nav aria-label="Screens">
            {screens.map((s) => (
              <NavLink
                key={s.path}
                component={RouterLink}
                to={s.path}
                label={s.label}
                onClick={close}
                active={s.path === "/" ? location.pathname === "/" : location.pathname.startsWith(s.path)}
              />
            ))}
          </nav>
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
