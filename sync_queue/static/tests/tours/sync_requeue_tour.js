/** @odoo-module */

import { registry } from "@web/core/registry";

/**
 * A message the receiver refused for its content: the admin opens it from the
 * queue (which opens on what needs attention), finds Requeue as the primary
 * action, requeues it after the fix, and follows "Replaced by" to the new message.
 */
registry.category("web_tour.tours").add("sync_requeue_tour", {
    url: "/odoo/action-sync_queue.sync_message_action",
    steps: () => [
        { trigger: ".o_facet_values:contains(Needs Attention)" },
        { trigger: ".o_data_row:contains(Tour refused) td[name=record_name]", run: "click" },
        { trigger: ".o_form_view .alert-danger .o_field_widget[name=last_error]:contains(unknown field)" },
        // content failure: Requeue is the primary button, Retry a secondary one
        { trigger: ".o_statusbar_buttons button.btn-secondary[name=action_retry]" },
        { trigger: ".o_statusbar_buttons button.btn-primary[name=action_requeue]", run: "click" },
        { trigger: ".o_notification:contains(1 message requeued)" },
        // the replaced message is information, not an error, and links to its replacement
        { trigger: ".o_form_view .alert-info .o_field_widget[name=last_error]:contains(Requeued by)" },
        { trigger: ".o_form_view:not(:has(.alert-danger))" },
        { trigger: ".o_form_view .o_field_widget[name=replaced_by_id] a", run: "click" },
        { trigger: ".o_form_view .o_field_widget[name=replaced_ids]:contains(Tour refused)" },
        { trigger: ".o_form_view .o_statusbar_status button[aria-checked=true]:contains(Pending)" },
        { trigger: ".o_form_view:not(:has(.o_field_widget[name=replaced_by_id] a))" },
    ],
});
