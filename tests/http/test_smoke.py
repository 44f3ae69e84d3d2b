def test_login_page_answers(client):
    response = client.get("/connexion")
    assert response.status_code == 200
    assert "Se connecter" in response.get_data(as_text=True)


def test_demo_provider_logs_in_and_sees_home(client, login_as):
    login_as("interprete@demo.test")
    page = client.get("/").get_data(as_text=True)
    assert "Cabinet Lefèvre Interprétariat" in page
    assert "Mon compte" in page
