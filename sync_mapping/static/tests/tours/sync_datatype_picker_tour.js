/** @odoo-module */

import { registry } from "@web/core/registry";

// Odoo 18.0 and 19.0 keep the tour utilities in different modules (@web_tour/tour_service/tour_utils,
// @web_tour/tour_utils): importing either fails on the other series, so the steps are written out here
const saveForm = () => [
    {content: "save form", trigger: ".o_form_button_save:enabled", run: "click"},
    {content: "wait for save completion", trigger: ".o_form_readonly, .o_form_saved"},
];

const LINES = ".o_field_widget[name=line_ids]";

function pick(field, text, choice) {
    return [
        { trigger: `.o_form_view .o_field_widget[name=${field}] input`, run: `edit ${text}` },
        { trigger: `.ui-menu-item a:contains(${choice})`, run: "click" },
    ];
}

/** Pick a field path with the Value's field picker of the line being edited: follow each relation, pick the last. */
function pickPath(...names) {
    const item = (name) => `.o_model_field_selector_popover_item[data-name=${name}]`;
    return [
        { trigger: `${LINES} .o_selected_row [name=value] .o_model_field_selector`, run: "click" },
        ...names.slice(0, -1).map((name) => ({
            trigger: `${item(name)} .o_model_field_selector_popover_item_relation`,
            run: "click",
        })),
        { trigger: `${item(names.at(-1))} .o_model_field_selector_popover_item_name`, run: "click" },
        { trigger: "body:not(:has(.o_model_field_selector_popover))" },
    ];
}

/**
 * The admin creates a data type on contacts with the Value's field picker (a path through the country becomes a
 * template line), chooses a schema that does not allow it, sees the warning and regenerates the schema.
 */
registry.category("web_tour.tours").add("sync_datatype_picker_tour", {
    url: "/odoo/action-sync_mapping.sync_data_type_action",
    steps: () => [
        { trigger: ".o_list_button_add", run: "click" },
        { trigger: ".o_form_view .o_field_widget[name=name] input", run: "edit Tour Picked Contacts" },
        ...pick("library_id", "Tour Picker", "Tour Picker"),
        ...pick("model_id", "res.partner", "/^Contact$/"),
        ...pick("schema_id", "Names Only", "tour_picker.names_only"),
        // a field of the model
        { trigger: `${LINES} .o_field_x2many_list_row_add a`, run: "click" },
        ...pickPath("name"),
        { trigger: `${LINES} .o_selected_row [name=name] input:value(name)` },
        // a path through a relation: Country > Country Code
        { trigger: `${LINES} .o_field_x2many_list_row_add a`, run: "click" },
        ...pickPath("country_id", "code"),
        // the path became a template line: its value is the template, edited as text (no picker)
        { trigger: `${LINES} .o_data_row:eq(1) [name=value] input:value({country_id.code})` },
        { trigger: `${LINES} .o_data_row:eq(1) [name=name] input:value(country_code)` },
        ...saveForm(),
        // saved, with a warning: the schema allows the name only
        {
            trigger: ".o_form_view .o_sync_schema_warning:contains(does not allow the properties country_code)",
        },
        { trigger: ".o_sync_schema_warning button[name=action_regenerate_schema]", run: "click" },
        { trigger: ".o_form_view:not(:has(.o_sync_schema_warning:visible))" },
        { trigger: `${LINES} .o_data_row:contains({country_id.code})` },
    ],
});
