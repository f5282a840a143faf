"""The partner organization's page (/partner-organization) is one of the UI's pages: the server
answers it with the module app, like the other pages, for the app to route."""


def test_the_partner_organization_page_is_the_module_app(client):
    r = client.get("/partner-organization", headers={"Accept": "text/html"})
    assert r.status == 200, r
    assert r.content_type == "text/html", r.headers.get("Content-Type")
    assert '<script type="module"' in r.body, r.body[:500]
