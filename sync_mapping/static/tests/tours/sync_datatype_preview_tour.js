/** @odoo-module */

import { registry } from "@web/core/registry";

/**
 * The admin opens a data type whose condition and domain exclude the model's first record: the domain's count
 * includes the condition, and the preview opens on the record that is sent.
 */
registry.category("web_tour.tours").add("sync_datatype_preview_tour", {
    url: "/odoo/action-sync_mapping.sync_data_type_action",
    steps: () => [
        { trigger: ".o_data_row td[name=name]:contains(Tour Preview Companies)", run: "click" },
        { trigger: ".o_notebook a:contains(Conditions)", run: "click" },
        // the domain alone matches every company; with the condition, one
        { trigger: ".o_field_widget[name=domain] .o_domain_show_selection_button:contains(1 record)" },
        { trigger: ".o_statusbar_buttons button[name=action_preview]", run: "click" },
        { trigger: ".modal .o_field_widget[name=record_ref] input:value(Zz Tour Preview Target)" },
        { trigger: ".modal .o_field_widget[name=document]:contains(Zz Tour Preview Target)" },
        { trigger: ".modal-footer .btn-primary", run: "click" },
        { trigger: "body:not(:has(.modal))" },
    ],
});
