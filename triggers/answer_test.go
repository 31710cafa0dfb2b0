package triggers

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// TestRunAnswer: the hand-written answer is the JSON encoder's, also for an
// id that needs escaping.
func TestRunAnswer(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"0190a0a0-0000-7000-8000-000000000000", `odd "id"\<>&`, ""} {
		app := fiber.New()
		app.Get("/", func(c *fiber.Ctx) error { return runAnswer(c, fiber.StatusAccepted, id, "queued") })
		resp, err := app.Test(httptest.NewRequest("GET", "/", nil))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		var got map[string]string
		if err := json.Unmarshal(raw, &got); err != nil || got["run_id"] != id || got["status"] != "queued" || len(got) != 2 {
			t.Errorf("answer for %q: %s (%v)", id, raw, err)
		}
		if resp.StatusCode != fiber.StatusAccepted || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("answer for %q: %d %s", id, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}
